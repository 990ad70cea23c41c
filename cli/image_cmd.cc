// `gantry image <subcommand>`: the table of image subcommands and the local ones.
#include "cli/image_cmd.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "agent/oci_container_manager.h"
#include "common/text_table.h"
#include "runtime/image/import.h"

namespace gantry::cli {

namespace image = runtime::image;

namespace {

const CommandEntry kImageCommands[] = {
    {"ls", "List local images", setup_image_ls_command},
    {"inspect", "Show an image's record, manifest and config as JSON",
     setup_image_inspect_command},
    {"rm", "Remove image names (content stays until prune)", setup_image_rm_command},
    {"prune", "Remove blobs and layers no image uses", setup_image_prune_command},
    {"import", "Make a one-layer image from a root filesystem directory or tarball",
     setup_image_import_command},
    {"load", "Load images from an OCI image layout or a `docker save` archive",
     setup_image_load_command},
    {"pull", "Pull an image from its registry", setup_image_pull_command},
};

std::string human_size(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.3g%s", v, units[u]);
  return buf;
}

std::string short_digest(const std::string& d) {
  return d.size() > 19 ? d.substr(7, 12) : d;
}

// Runs `body`; an error is printed and becomes the exit code.
template <typename F>
void run(CommandContext& ctx, F&& body) {
  Status st = body();
  ctx.exit_code = st.ok() ? 0 : report_error(st.error());
}

}  // namespace

Result<std::shared_ptr<image::ImageStore>> open_image_store(const CommandContext& ctx) {
  image::UnpackOptions opts;
  opts.privileged = ::geteuid() == 0;
  return image::ImageStore::open(ctx.global.root, opts);
}

Result<image::Platform> platform_option(const std::string& text) {
  if (text.empty()) return image::host_platform();
  return image::parse_platform(text);
}

void setup_image_command(CLI::App& command, CommandContext& ctx) {
  command.require_subcommand(1);
  for (const auto& entry : kImageCommands) {
    CLI::App* sub = command.add_subcommand(entry.name, entry.help);
    entry.setup(*sub, ctx);
  }
}

void setup_image_ls_command(CLI::App& command, CommandContext& ctx) {
  auto json = std::make_shared<bool>(false);
  command.add_flag("--json", *json, "Print a JSON array of image records");
  command.callback([&ctx, json] {
    run(ctx, [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      GANTRY_ASSIGN_OR_RETURN(auto images, store->content().list_images());
      if (*json) {
        Json out = Json::array();
        for (const auto& r : images) out.push_back(image::image_record_to_json(r));
        std::printf("%s\n", out.dump(2).c_str());
        return ok_status();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& r : images) {
        std::string repo = r.name, tag = "<none>";
        if (auto ref = image::parse_reference(r.name); ref.ok()) {
          image::Reference bare = *ref;
          bare.tag.clear();
          bare.digest.clear();
          repo = bare.familiar();
          if (!ref->tag.empty()) tag = ref->tag;
        }
        rows.push_back({repo, tag, short_digest(r.digest), r.platform, r.created.substr(0, 19),
                        human_size(r.size)});
      }
      std::fputs(format_table({"REPOSITORY", "TAG", "DIGEST", "PLATFORM", "CREATED", "SIZE"}, rows,
                              3).c_str(),
                 stdout);
      return ok_status();
    });
  });
}

void setup_image_inspect_command(CLI::App& command, CommandContext& ctx) {
  auto ref = std::make_shared<std::string>();
  command.add_option("REF", *ref, "Image name, digest or id prefix")->required();
  command.callback([&ctx, ref] {
    run(ctx, [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      GANTRY_ASSIGN_OR_RETURN(image::ImageRecord rec, store->find(*ref));
      Json out = image::image_record_to_json(rec);
      GANTRY_ASSIGN_OR_RETURN(Digest md, parse_digest(rec.manifest_digest));
      GANTRY_ASSIGN_OR_RETURN(std::string manifest, store->content().read(md));
      GANTRY_ASSIGN_OR_RETURN(out["manifest"], parse_json(manifest, "manifest"));
      GANTRY_ASSIGN_OR_RETURN(image::ImageConfig config, store->config(rec));
      out["config"] = config.raw;
      GANTRY_ASSIGN_OR_RETURN(auto lowers, store->lower_dirs(rec));
      out["lower_dirs"] = lowers;
      std::printf("%s\n", out.dump(2).c_str());
      return ok_status();
    });
  });
}

void setup_image_rm_command(CLI::App& command, CommandContext& ctx) {
  auto refs = std::make_shared<std::vector<std::string>>();
  command.add_option("REF", *refs, "Image names, digests or id prefixes")->required();
  command.callback([&ctx, refs] {
    run(ctx, [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      for (const auto& r : *refs) {
        GANTRY_ASSIGN_OR_RETURN(image::ImageRecord rec, store->remove(r));
        std::printf("Untagged: %s\n", rec.name.c_str());
      }
      return ok_status();
    });
  });
}

void setup_image_prune_command(CLI::App& command, CommandContext& ctx) {
  command.callback([&ctx] {
    run(ctx, [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      std::string root = ctx.global.root;
      GANTRY_ASSIGN_OR_RETURN(image::PruneReport report, store->prune([&root] {
        return agent::OciContainerManager::snapshots_in_use(root);
      }));
      for (const auto& b : report.removed_blobs) std::printf("deleted blob %s\n", b.c_str());
      for (const auto& s : report.removed_snapshots)
        std::printf("deleted layer %s\n", s.c_str());
      std::printf("Total reclaimed space: %s\n", human_size(report.reclaimed_bytes).c_str());
      return ok_status();
    });
  });
}

void setup_image_import_command(CLI::App& command, CommandContext& ctx) {
  struct Args {
    std::string source, ref;
    image::ImportOptions options;
    std::vector<std::string> env;
  };
  auto a = std::make_shared<Args>();
  command.add_option("SOURCE", a->source, "Root filesystem: a directory or a tar[.gz|.zst]")
      ->required();
  command.add_option("REF", a->ref, "Name for the image, e.g. 'base:1' or 'localhost/base'")
      ->required();
  command.add_option("--env", a->env, "Environment variable KEY=value (repeatable; adds to PATH)");
  command.add_option("--cmd", a->options.cmd, "Default command (repeat for each argument)");
  command.add_option("--entrypoint", a->options.entrypoint,
                     "Entrypoint (repeat for each argument)");
  command.add_option(
      "--expose", a->options.exposed_ports,
      "Exposed port PORT[/tcp|udp] (repeatable; a service's health check probes them)");
  command.add_option("--workdir", a->options.working_dir, "Default working directory");
  command.add_option("--user", a->options.user, "Default user (uid[:gid] or name[:group])");
  command.callback([&ctx, a] {
    run(ctx, [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(image::Reference ref, image::parse_reference(a->ref));
      for (const auto& p : a->options.exposed_ports) {
        auto slash = p.find('/');
        std::string num = p.substr(0, slash);
        std::string proto = slash == std::string::npos ? "tcp" : p.substr(slash + 1);
        bool digits = !num.empty() && num.size() <= 5 &&
                      num.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoul(num) == 0 || std::stoul(num) > 65535 ||
            (proto != "tcp" && proto != "udp" && proto != "sctp")) {
          return Error(ErrorCode::kInvalidArgument,
                       "--expose '" + p + "': expected PORT[/tcp|udp|sctp], PORT in 1-65535");
        }
      }
      for (const auto& e : a->env) {
        if (e.find('=') == std::string::npos || e.front() == '=')
          return Error(ErrorCode::kInvalidArgument, "--env '" + e + "': expected KEY=value");
        a->options.env.push_back(e);
      }
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      GANTRY_ASSIGN_OR_RETURN(image::ImageRecord rec,
                              image::import_rootfs(*store, a->source, ref.str(), a->options));
      std::printf("%s\n", rec.digest.c_str());
      return ok_status();
    });
  });
}

void setup_image_load_command(CLI::App& command, CommandContext& ctx) {
  struct Args {
    std::string source, name, platform;
  };
  auto a = std::make_shared<Args>();
  command.add_option("SOURCE", a->source, "An OCI image layout (directory or tar) or a `docker "
                                          "save` tar")
      ->required();
  command.add_option("--name", a->name, "Name for a layout holding one image without a full name");
  command.add_option("--platform", a->platform, "os/arch[/variant] to load from a multi-platform "
                                                "image (default: this host)");
  command.callback([&ctx, a] {
    run(ctx, [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(image::Platform platform, platform_option(a->platform));
      std::string name;
      if (!a->name.empty()) {
        GANTRY_ASSIGN_OR_RETURN(image::Reference ref, image::parse_reference(a->name));
        name = ref.str();
      }
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      GANTRY_ASSIGN_OR_RETURN(auto recs, image::load_images(*store, a->source, platform, name));
      for (const auto& r : recs) std::printf("Loaded image: %s\n", r.name.c_str());
      return ok_status();
    });
  });
}

}  // namespace gantry::cli
