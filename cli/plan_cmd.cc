// `gantry plan [FILE]`: the dry run. Loads the pipeline, evaluates it for one trigger (branch or
// tag, source, variables, changed files) and prints the pipeline that would run: text for
// people, JSON for tools (`{"stages", "jobs"}`), or a Mermaid flowchart of stages and needs.
// Load or plan errors are diagnostics on stderr and exit 1; a pipeline that workflow:rules
// stops prints an empty plan and says why on stderr (exit 0, as it is not an error).
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/pipeline_options.h"
#include "pipeline-schema/plan.h"

namespace gantry::cli {

namespace {

struct PlanOptions {
  std::shared_ptr<PipelineOptions> pipeline = std::make_shared<PipelineOptions>();
  std::string format = "text";
};

std::string quote_if_needed(const std::string& s) {
  return s.find_first_of(" :[]\"") == std::string::npos ? s : "\"" + s + "\"";
}

std::string render_text(const schema::Plan& plan, const schema::TriggerContext& t) {
  std::ostringstream out;
  out << "pipeline " << (plan.name ? "'" + *plan.name + "' " : "") << "for "
      << (t.is_tag() ? "tag '" + t.tag + "'" : "branch '" + t.branch + "'") << " (source "
      << t.source << "): " << plan.stages.size() << " stage" << (plan.stages.size() == 1 ? "" : "s")
      << ", " << plan.jobs.size() << " job" << (plan.jobs.size() == 1 ? "" : "s") << "\n";
  for (const auto& stage : plan.stages) {
    out << "\nstage " << stage << "\n";
    for (const auto& j : plan.jobs) {
      if (j.stage != stage) continue;
      out << "  " << j.name << "\n";
      out << "    when: " << schema::when_name(j.when);
      if (j.start_in) out << " (in " << *j.start_in << ")";
      if (j.allow_failure) out << ", allow_failure";
      if (!j.allow_failure_exit_codes.empty()) {
        out << ", allow_failure for exit codes";
        for (int c : j.allow_failure_exit_codes) out << " " << c;
      }
      out << "\n";
      out << "    image: " << (j.image ? j.image->name : "(none)") << "\n";
      for (const auto& s : j.services) {
        out << "    service: " << s.name << (s.alias ? " as " + *s.alias : "") << "\n";
      }
      if (j.needs) {
        out << "    needs:";
        if (j.needs->empty()) out << " [] (starts at once)";
        for (const auto& n : *j.needs) {
          out << " " << quote_if_needed(n.job) << (n.artifacts ? "" : " (no artifacts)");
        }
        out << "\n";
      }
      if (j.is_trigger) out << "    triggers a downstream pipeline (not run by gantry)\n";
      for (const auto& k : j.skipped_keywords) out << "    not executed: " << k << "\n";
      for (const auto& line : j.before_script) {
        out << "    $ " << schema::expand_for_display(line, j.variables) << "\n";
      }
      for (const auto& line : j.script) {
        out << "    $ " << schema::expand_for_display(line, j.variables) << "\n";
      }
      for (const auto& line : j.after_script) {
        out << "    (after) $ " << schema::expand_for_display(line, j.variables) << "\n";
      }
    }
  }
  return out.str();
}

std::string mermaid_id(const std::string& prefix, size_t index) {
  return prefix + std::to_string(index);
}

std::string mermaid_label(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '"' ? std::string("#quot;") : std::string(1, c);
  return "\"" + out + "\"";
}

std::string render_mermaid(const schema::Plan& plan) {
  std::ostringstream out;
  out << "flowchart LR\n";
  std::map<std::string, std::string> job_id;
  for (size_t s = 0; s < plan.stages.size(); ++s) {
    out << "  subgraph " << mermaid_id("stage", s) << "[" << mermaid_label(plan.stages[s])
        << "]\n";
    for (size_t i = 0; i < plan.jobs.size(); ++i) {
      const auto& j = plan.jobs[i];
      if (j.stage != plan.stages[s]) continue;
      job_id[j.name] = mermaid_id("job", i);
      std::string label = j.name;
      if (j.when != schema::When::kOnSuccess)
        label += " (" + std::string(schema::when_name(j.when)) + ")";
      out << "    " << job_id[j.name] << "[" << mermaid_label(label) << "]\n";
    }
    out << "  end\n";
  }
  for (size_t s = 1; s < plan.stages.size(); ++s) {
    out << "  " << mermaid_id("stage", s - 1) << " --> " << mermaid_id("stage", s) << "\n";
  }
  for (const auto& j : plan.jobs) {
    if (!j.needs) continue;
    for (const auto& n : *j.needs) {
      out << "  " << job_id[n.job] << (n.artifacts ? " --> " : " -.-> ") << job_id[j.name] << "\n";
    }
  }
  return out.str();
}

int run_plan(const PlanOptions& o) {
  if (o.format != "text" && o.format != "json" && o.format != "mermaid") {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "plan: unknown --format '" + o.format + "' (text, json, mermaid)"));
  }
  auto loaded = load_plan(*o.pipeline, "plan");
  if (loaded.exit_code != 0) return loaded.exit_code;
  const auto& t = loaded.trigger;
  const auto& plan = loaded.plan;
  if (!plan.created) std::fprintf(stderr, "gantry: plan: %s\n", plan.stopped_reason.c_str());
  if (o.format == "json") {
    std::cout << schema::plan_summary_json(plan).dump(2) << "\n";
  } else if (o.format == "mermaid") {
    std::cout << render_mermaid(plan);
  } else if (plan.created) {
    std::cout << render_text(plan, t);
  }
  return 0;
}

}  // namespace

void setup_plan_command(CLI::App& command, CommandContext& ctx) {
  auto opts = std::make_shared<PlanOptions>();
  add_pipeline_options(command, opts->pipeline);
  command.add_option("--format", opts->format, "Output: text, json, mermaid")
      ->capture_default_str();
  command.callback([opts, &ctx] { ctx.exit_code = run_plan(*opts); });
}

}  // namespace gantry::cli
