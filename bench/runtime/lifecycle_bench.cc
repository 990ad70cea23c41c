// lifecycle_bench: times whole container lifecycles (`<runtime> run` of a bundle whose process is
// /bin/true, then gone) for each runtime given, back to back and N at a time, and reports the
// median, p90, CPU time and peak RSS of the runtime process and the ratio to the first runtime.
// The back-to-back runs are split into rounds, the runtimes' order reversed every other round,
// so that a change in the machine's load during the run weighs on every runtime alike.
//
//   gantry_bench_lifecycle [--runs N] [--rounds R] [--parallel-total N] [--parallel P]
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
#include <functional>
#include <memory>
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
  double cpu_ms = 0;  // user + system time of the runtime process and the children it reaped
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
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  s.cpu_ms = ms(ru.ru_utime) + ms(ru.ru_stime);
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

// What one runtime's measurements add up to; sent whole over a pipe from an @nocg2 child.
struct Totals {
  static constexpr int kMaxRuns = 4096;
  int n = 0;
  double ms[kMaxRuns];
  double cpu_ms[kMaxRuns];
  double par_total_ms = 0;
  long rss_kb = 0;
  int failures = 0;
};

struct Row {
  std::string name;
  double median = 0, p90 = 0, cpu_median = 0, par_total_ms = 0;
  long rss_kb = 0;
  int failures = 0;
};

// `runs` back-to-back lifecycles (after one warm-up), added to `t`.
void measure_sequential(const Runtime& rt, const std::string& root, int runs, int& seq,
                        Totals& t) {
  wait_for(spawn(rt, "warm-" + std::to_string(seq++), root));
  for (int r = 0; r < runs && t.n < Totals::kMaxRuns; ++r) {
    auto t0 = Clock::now();
    Sample s = wait_for(spawn(rt, "b" + std::to_string(seq++), root));
    t.ms[t.n] = ms_since(t0);
    t.cpu_ms[t.n] = s.cpu_ms;
    ++t.n;
    t.rss_kb = std::max(t.rss_kb, s.maxrss_kb);
    if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) ++t.failures;
  }
}

// `parallel_total` lifecycles `parallel` at a time, added to `t`.
void measure_parallel(const Runtime& rt, const std::string& root, int parallel_total,
                      int parallel, int& seq, Totals& t) {
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
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++t.failures;
    }
  }
  t.par_total_ms = ms_since(t0);
}

// Runs `fn` on `t` in a child whose mount namespace hides the cgroup2 mount (for "@nocg2").
bool in_nocg2_child(Totals& t, const std::function<void(Totals&)>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0) {
      std::perror("hide cgroup2");
      ::_exit(1);
    }
    fn(t);
    const char* p = reinterpret_cast<const char*>(&t);
    for (size_t off = 0; off < sizeof t;) {
      ssize_t w = ::write(fds[1], p + off, sizeof t - off);
      if (w <= 0) ::_exit(1);
      off += static_cast<size_t>(w);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  char* p = reinterpret_cast<char*>(&t);
  size_t off = 0;
  while (off < sizeof t) {
    ssize_t r = ::read(fds[0], p + off, sizeof t - off);
    if (r <= 0) break;
    off += static_cast<size_t>(r);
  }
  ::close(fds[0]);
  int st = 0;
  ::waitpid(child, &st, 0);
  return off == sizeof t && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50, rounds = 5, parallel_total = 50, parallel = 4;
  std::vector<Runtime> runtimes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--rounds") rounds = std::atoi(next().c_str());
    else if (a == "--parallel-total") parallel_total = std::atoi(next().c_str());
    else if (a == "--parallel") parallel = std::atoi(next().c_str());
    else if (auto eq = a.find('='); eq != std::string::npos)
      runtimes.push_back({a.substr(0, eq), split(a.substr(eq + 1))});
    else {
      std::fprintf(stderr, "lifecycle_bench: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (runtimes.empty() || runs < 1 || rounds < 1 || runs > Totals::kMaxRuns) {
    std::fprintf(stderr,
                 "usage: gantry_bench_lifecycle [--runs N] [--rounds R] [--parallel-total N] "
                 "[--parallel P] NAME=COMMAND ...\n");
    return 2;
  }
  rounds = std::min(rounds, runs);
  char tmpl[] = "/tmp/gantry-bench.XXXXXX";
  std::string base = ::mkdtemp(tmpl);

  std::vector<std::unique_ptr<Totals>> totals;
  for (size_t i = 0; i < runtimes.size(); ++i) totals.push_back(std::make_unique<Totals>());
  std::vector<bool> broken(runtimes.size(), false);
  int seq = 0;
  // Runs `fn` for runtime i, in an @nocg2 child when its name asks for one.
  auto step = [&](size_t i, const std::function<void(Totals&)>& fn) {
    const Runtime& rt = runtimes[i];
    (void)gantry::make_dirs(base + "/" + rt.name);
    if (rt.name.ends_with("@nocg2")) {
      if (!in_nocg2_child(*totals[i], fn)) {
        std::fprintf(stderr, "lifecycle_bench: measuring '%s' failed\n", rt.name.c_str());
        broken[i] = true;
      }
      seq += 100000;  // the child's ids are its own
    } else {
      fn(*totals[i]);
    }
  };
  for (int round = 0; round < rounds; ++round) {
    int n = runs / rounds + (round < runs % rounds ? 1 : 0);
    for (size_t k = 0; k < runtimes.size(); ++k) {
      size_t i = round % 2 == 0 ? k : runtimes.size() - 1 - k;
      std::string root = base + "/" + runtimes[i].name;
      step(i, [&](Totals& t) { measure_sequential(runtimes[i], root, n, seq, t); });
    }
  }
  for (size_t i = 0; i < runtimes.size(); ++i) {
    std::string root = base + "/" + runtimes[i].name;
    step(i, [&](Totals& t) {
      measure_parallel(runtimes[i], root, parallel_total, parallel, seq, t);
    });
  }

  std::vector<Row> rows;
  for (size_t i = 0; i < runtimes.size(); ++i) {
    const Totals& t = *totals[i];
    Row r{runtimes[i].name};
    std::vector<double> ms(t.ms, t.ms + t.n), cpu(t.cpu_ms, t.cpu_ms + t.n);
    r.median = percentile(ms, 0.5);
    r.p90 = percentile(ms, 0.9);
    r.cpu_median = percentile(cpu, 0.5);
    r.par_total_ms = t.par_total_ms;
    r.rss_kb = t.rss_kb;
    r.failures = broken[i] ? std::max(t.failures, runs) : t.failures;
    rows.push_back(r);
  }
  for (const auto& r : rows) {
    std::fprintf(stderr,
                 "{\"runtime\":\"%s\",\"median_ms\":%.2f,\"p90_ms\":%.2f,"
                 "\"cpu_median_ms\":%.2f,\"parallel_%d_x%d_ms\":%.1f,\"peak_rss_kb\":%ld,"
                 "\"failures\":%d}\n",
                 r.name.c_str(), r.median, r.p90, r.cpu_median, parallel_total, parallel,
                 r.par_total_ms, r.rss_kb, r.failures);
  }
  (void)gantry::remove_all(base);

  std::printf("| runtime | median lifecycle (ms) | p90 (ms) | vs %s | CPU per lifecycle (ms) "
              "| %d lifecycles, %d at a time (ms) | peak RSS of `run` (MB) | failures |\n",
              rows[0].name.c_str(), parallel_total, parallel);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %s | %.2f | %.2f | %.2fx | %.2f | %.0f | %.1f | %d |\n", r.name.c_str(),
                r.median, r.p90, r.median / rows[0].median, r.cpu_median, r.par_total_ms,
                static_cast<double>(r.rss_kb) / 1024.0, r.failures);
  }
  int total_failures = 0;
  for (const auto& r : rows) total_failures += r.failures;
  return total_failures == 0 ? 0 : 1;
}
