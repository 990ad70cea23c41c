// Benchmark of the pipeline loading chain (what `gantry lint` does): generates a pipeline of
// about 2,000 lines using anchors, merge keys, extends, rules, needs and artifacts, loads it
// repeatedly and prints the median CPU time per load, next to yaml-cpp's bare parse of the same
// text as the peer baseline. Usage: gantry_bench_lint [LINES] [RUNS]
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pipeline-schema/load.h"
#include "pipeline-schema/yaml_loader.h"

namespace {

std::string generate(int target_lines) {
  std::string out =
      "stages: [build, test, deploy]\nvariables:\n  GLOBAL: '1'\n.base: &base\n"
      "  image: alpine:3.19\n  before_script:\n    - echo setup\n  tags: [linux]\n"
      "default:\n  retry: 1\n.tmpl:\n  interruptible: true\n";
  int lines = 12;
  const char* stages[] = {"build", "test", "deploy"};
  for (int i = 0; lines < target_lines; ++i) {
    std::string n = std::to_string(i);
    out += "job-" + n + ":\n  <<: *base\n  extends: .tmpl\n  stage: " + stages[i % 3] +
           "\n  script:\n    - echo job " + n + "\n    - make all\n  variables:\n    N: '" + n +
           "'\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n      when: always\n"
           "    - when: manual\n  artifacts:\n    paths: [out/]\n    expire_in: 1 week\n";
    lines += 16;
    if (i % 3 != 0) {
      out += "  needs:\n    - job-" + std::to_string(i - 1) + "\n";
      lines += 2;
    }
  }
  return out;
}

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// CPU time rather than wall time, so a busy machine does not inflate the numbers.
template <typename F>
double median_ms(int runs, F&& f) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    double start = cpu_ms();
    f();
    times.push_back(cpu_ms() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int lines = argc > 1 ? std::atoi(argv[1]) : 2000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 20;
  std::string text = generate(lines);
  gantry::schema::FakeProjectFiles files;
  std::size_t errors = 0;
  double gantry_ms = median_ms(runs, [&] {
    auto loaded = gantry::schema::load_pipeline_text(text, ".gitlab-ci.yml", files);
    errors = loaded.diagnostics.error_count();
  });
  double yaml_ms = median_ms(runs, [&] { (void)YAML::Load(text); });
  double parse_ms = median_ms(runs, [&] {
    gantry::schema::Diagnostics d;
    (void)gantry::schema::parse_yaml(text, ".gitlab-ci.yml", d);
  });
  std::printf("gantry parse_yaml alone %.2f ms, text %zu bytes\n", parse_ms, text.size());
  std::printf("pipeline of %d lines: gantry load+validate %.2f ms, yaml-cpp YAML::Load %.2f ms "
              "(ratio %.2f), %zu errors\n",
              lines, gantry_ms, yaml_ms, gantry_ms / yaml_ms, errors);
  return errors == 0 ? 0 : 1;
}
