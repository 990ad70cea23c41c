// lifecycle_bench: times whole container lifecycles (`<runtime> run` of a bundle whose process is
// /bin/true, then gone) for each runtime given, back to back and N at a time, and reports the
// median, p90, peak RSS of the runtime process and the ratio to the first runtime.
//
//   gantry_bench_lifecycle --bundle DIR [--runs N] [--parallel-total N] [--parallel P]
//                          NAME=COMMAND-TEMPLATE ...
//
// A NAME ending in "@nocg2" is measured in a private mount namespace with the cgroup2 mount at
// /sys/fs/cgroup/unified hidden: crun 1.8 refuses hybrid hosts (v1 controllers plus a cgroup2
// mount), so that is how it runs here at all, without a wrapper process per lifecycle.
//
// COMMAND-TEMPLATE is a shell-free argv split on spaces in which {id} becomes a fresh container
// id and {root} a fresh state directory, e.g.
//   gantry="build/gantry runtime --root {root} run --bundle /b {id}"
// Output: a markdown table on stdout (paste into docs/benchmarks.md) and a JSON line per runtime
// on stderr.
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "common/file.h"

namespace {

struct Runtime {
  std::string name;
  std::vector<std::string> argv_template;
};

struct Sample {
  double ms = 0;
  long maxrss_kb = 0;
  int status = 0;
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
  return s;
}

pid_t spawn(const Runtime& rt, const std::string& id, const std::string& root) {
  std::vector<std::string> args;
  for (const auto& a : rt.argv_template)
    args.push_back(replace_all(replace_all(a, "{id}", id), "{root}", root));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execvp(argv[0], argv.data());
    std::perror(argv[0]);
    ::_exit(127);
  }
  return pid;
}

Sample wait_for(pid_t pid) {
  Sample s;
  struct rusage ru {};
  ::wait4(pid, &s.status, 0, &ru);
  s.maxrss_kb = ru.ru_maxrss;
  return s;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Row {
  std::string name;
  double median = 0, p90 = 0, par_total_ms = 0;
  long rss_kb = 0;
  int failures = 0;
};

// Back-to-back lifecycles (after one warm-up), then `parallel_total` of them `parallel` at a time.
Row measure(const Runtime& rt, const std::string& root, int runs, int parallel_total, int parallel,
            int& seq) {
  wait_for(spawn(rt, "warm-" + std::to_string(seq++), root));
  Row row{rt.name};
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    Sample s = wait_for(spawn(rt, "b" + std::to_string(seq++), root));
    times.push_back(ms_since(t0));
    row.rss_kb = std::max(row.rss_kb, s.maxrss_kb);
    if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) ++row.failures;
  }
  row.median = percentile(times, 0.5);
  row.p90 = percentile(times, 0.9);
  auto t0 = Clock::now();
  int started = 0, running = 0;
  while (started < parallel_total || running > 0) {
    while (running < parallel && started < parallel_total) {
      spawn(rt, "p" + std::to_string(seq++), root);
      ++started;
      ++running;
    }
    int status = 0;
    if (::wait(&status) > 0) {
      --running;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++row.failures;
    }
  }
  row.par_total_ms = ms_since(t0);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50, parallel_total = 50, parallel = 4;
  std::vector<Runtime> runtimes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--parallel-total") parallel_total = std::atoi(next().c_str());
    else if (a == "--parallel") parallel = std::atoi(next().c_str());
    else if (auto eq = a.find('='); eq != std::string::npos)
      runtimes.push_back({a.substr(0, eq), split(a.substr(eq + 1))});
    else {
      std::fprintf(stderr, "lifecycle_bench: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (runtimes.empty()) {
    std::fprintf(stderr, "usage: gantry_bench_lifecycle [--runs N] NAME=COMMAND ...\n");
    return 2;
  }
  char tmpl[] = "/tmp/gantry-bench.XXXXXX";
  std::string base = ::mkdtemp(tmpl);

  struct Wire {
    double median, p90, par_total_ms;
    long rss_kb;
    int failures;
  };
  std::vector<Row> rows;
  int seq = 0;
  for (const auto& rt : runtimes) {
    std::string root = base + "/" + rt.name;
    (void)gantry::make_dirs(root);
    if (rt.name.ends_with("@nocg2")) {
      // Measure in a child that hides the cgroup2 mount in its own mount namespace.
      int fds[2];
      if (::pipe(fds) != 0) return 1;
      pid_t child = ::fork();
      if (child == 0) {
        ::close(fds[0]);
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0) {
          std::perror("hide cgroup2");
          ::_exit(1);
        }
        Row r = measure(rt, root, runs, parallel_total, parallel, seq);
        Wire w{r.median, r.p90, r.par_total_ms, r.rss_kb, r.failures};
        (void)!::write(fds[1], &w, sizeof w);
        ::_exit(0);
      }
      ::close(fds[1]);
      Wire w{};
      ssize_t n = ::read(fds[0], &w, sizeof w);
      Row r{rt.name, w.median, w.p90, w.par_total_ms, w.rss_kb, w.failures};
      ::close(fds[0]);
      int st = 0;
      ::waitpid(child, &st, 0);
      if (n != static_cast<ssize_t>(sizeof w) || st != 0) {
        std::fprintf(stderr, "lifecycle_bench: measuring '%s' failed\n", rt.name.c_str());
        r.failures = runs;
      }
      rows.push_back(r);
      seq += 1000000;
      continue;
    }
    rows.push_back(measure(rt, root, runs, parallel_total, parallel, seq));
  }
  for (const auto& r : rows) {
    std::fprintf(stderr,
                 "{\"runtime\":\"%s\",\"median_ms\":%.2f,\"p90_ms\":%.2f,\"parallel_%d_x%d_ms\":%.1f,"
                 "\"peak_rss_kb\":%ld,\"failures\":%d}\n",
                 r.name.c_str(), r.median, r.p90, parallel_total, parallel, r.par_total_ms, r.rss_kb,
                 r.failures);
  }
  (void)gantry::remove_all(base);

  std::printf("| runtime | median lifecycle (ms) | p90 (ms) | vs %s | %d lifecycles, %d at a time (ms) "
              "| peak RSS of `run` (MB) | failures |\n",
              rows[0].name.c_str(), parallel_total, parallel);
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %s | %.2f | %.2f | %.2fx | %.0f | %.1f | %d |\n", r.name.c_str(), r.median, r.p90,
                r.median / rows[0].median, r.par_total_ms, static_cast<double>(r.rss_kb) / 1024.0,
                r.failures);
  }
  int total_failures = 0;
  for (const auto& r : rows) total_failures += r.failures;
  return total_failures == 0 ? 0 : 1;
}
