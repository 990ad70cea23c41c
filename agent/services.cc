#include "agent/services.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <set>

#include "agent/container_files.h"
#include "agent/output_pump.h"
#include "common/logging.h"

namespace gantry::agent {

namespace {

using Clock = std::chrono::steady_clock;

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One non-blocking connect, waited for at most until `until` (and at most a second, so a
// black-holed address does not hold up the other probes).
bool try_connect(const in_addr& addr, std::uint16_t port, Clock::time_point until) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr = addr;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return true;
  if (errno != EINPROGRESS) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  int ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1000));
  struct pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, ms) <= 0) return false;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return false;
  return err == 0;
}

Result<std::vector<PortProbe>> probe_loop(const std::string& netns_path, const in_addr& addr,
                                          std::vector<PortProbe> pending,
                                          Clock::time_point deadline, std::stop_token stop,
                                          const std::function<bool(size_t)>& gone) {
  if (!netns_path.empty()) {
    UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) return sys_error("open network namespace '" + netns_path + "'");
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      return sys_error("enter network namespace '" + netns_path + "'");
    }
  }
  std::mutex mu;
  std::condition_variable_any cv;
  for (;;) {
    std::erase_if(pending, [&](const PortProbe& p) { return gone(p.service); });
    std::erase_if(pending, [&](const PortProbe& p) { return try_connect(addr, p.port, deadline); });
    if (pending.empty()) return pending;
    if (stop.stop_requested()) return Error(ErrorCode::kCancelled, "canceled");
    auto now = Clock::now();
    if (now >= deadline) return pending;
    // Retry soon; a stop request wakes the wait at once.
    std::unique_lock lock(mu);
    cv.wait_until(lock, stop, std::min(now + std::chrono::milliseconds(100), deadline),
                  [] { return false; });
  }
}

}  // namespace

std::vector<std::string> split_aliases(std::string_view alias) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : alias) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> default_service_aliases(std::string_view image) {
  std::string name(image);
  if (auto at = name.find('@'); at != std::string::npos) name.resize(at);  // digest
  auto slash = name.rfind('/');
  if (auto colon = name.rfind(':'); colon != std::string::npos &&
                                    (slash == std::string::npos || colon > slash)) {
    name.resize(colon);  // tag
  }
  // The registry's port: ":<digits>" ending the first path component.
  if (auto colon = name.find(':'); colon != std::string::npos) {
    auto end = name.find('/', colon);
    std::string_view port = std::string_view(name).substr(
        colon + 1, (end == std::string::npos ? name.size() : end) - colon - 1);
    if (all_digits(port)) name.erase(colon, port.size() + 1);
  }
  if (name.empty()) return {};
  std::string primary = name;
  replace_all(primary, "/", "__");
  std::string secondary = name;
  replace_all(secondary, "/", "-");
  std::vector<std::string> out = {primary};
  if (secondary != primary) out.push_back(secondary);
  return out;
}

Result<std::vector<std::string>> service_aliases(const schema::Service& svc) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  if (svc.alias) {
    for (const auto& a : split_aliases(*svc.alias)) {
      Status ok = check_host_name(a);
      if (!ok.ok()) {
        return Error(ErrorCode::kInvalidArgument,
                     "service " + q(svc.name) + ": alias " + q(a) + " is not a valid host name (" +
                         ok.error().message() + ")");
      }
      add(a);
    }
  }
  for (const auto& a : default_service_aliases(svc.name)) {
    if (check_host_name(a).ok()) add(a);
  }
  return out;
}

Result<std::vector<std::uint16_t>> health_check_ports(
    const std::vector<std::string>& exposed_ports,
    const std::optional<std::string>& override_port) {
  auto parse = [](std::string_view text, std::string_view what) -> Result<std::uint16_t> {
    if (!all_digits(text) || text.size() > 5 || std::stoul(std::string(text)) == 0 ||
        std::stoul(std::string(text)) > 65535) {
      return Error(ErrorCode::kInvalidArgument,
                   std::string(what) + " " + q(text) + " is not a TCP port number (1-65535)");
    }
    return static_cast<std::uint16_t>(std::stoul(std::string(text)));
  };
  if (override_port && !override_port->empty()) {
    GANTRY_ASSIGN_OR_RETURN(std::uint16_t p, parse(*override_port, "HEALTHCHECK_TCP_PORT"));
    return std::vector<std::uint16_t>{p};
  }
  std::set<std::uint16_t> ports;
  for (const auto& e : exposed_ports) {
    std::string_view text = e;
    std::string_view proto = "tcp";
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      proto = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    if (proto != "tcp") continue;
    GANTRY_ASSIGN_OR_RETURN(std::uint16_t p, parse(text, "exposed port"));
    ports.insert(p);
  }
  return std::vector<std::uint16_t>(ports.begin(), ports.end());
}

Result<std::vector<PortProbe>> wait_for_ports(const std::string& netns_path,
                                              const std::string& address,
                                              std::vector<PortProbe> probes,
                                              Clock::time_point deadline, std::stop_token stop,
                                              const std::function<bool(size_t)>& gone) {
  in_addr addr{};
  if (::inet_pton(AF_INET, address.c_str(), &addr) != 1) {
    return Error(ErrorCode::kInvalidArgument, "health check: " + q(address) +
                                                  " is not an IPv4 address");
  }
  if (probes.empty()) return probes;
  Result<std::vector<PortProbe>> out = Error(ErrorCode::kInternal, "health check did not run");
  // setns() changes only the calling thread: this one exists for that and ends with it.
  std::thread t([&] {
    try {
      out = probe_loop(netns_path, addr, std::move(probes), deadline, stop, gone);
    } catch (const std::exception& e) {
      out = Error(ErrorCode::kInternal, std::string("health check: ") + e.what());
    }
  });
  t.join();
  return out;
}

// One started (or at least created) service.
struct ServiceSet::Running {
  schema::Service spec;
  std::string display;  // how the log names it: "redis:7 (alias cache)"
  std::string hostname;
  std::vector<std::uint16_t> ports;
  std::string id;  // the container, once created
  bool started = false;
  bool cleaned = false;
  bool healthy = false;  // its ports accepted connections in the health check
  UniqueFd output;  // the read end of its output pipe
  std::unique_ptr<OutputPump> pump;
  std::thread watcher;  // wait()s for the container's end
  std::atomic<bool> exited{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> reported{false};  // its exit was reported (by wait_ready or the watcher)
  mutable std::mutex mu;  // guards tail, line, exit
  std::string tail;
  std::string line;  // a partial line, when debugging
  std::optional<Result<ContainerExit>> exit;
};

ServiceSet::ServiceSet(ServiceSetOptions options, ServiceLog& log)
    : options_(std::move(options)), log_(log) {
  hosts_.address = options_.address;
}

ServiceSet::~ServiceSet() { stop_all(); }

Status ServiceSet::start(const std::vector<schema::Service>& services,
                         const schema::VariableSet& job_vars, std::stop_token stop) {
  GANTRY_CHECK(options_.containers != nullptr);
  ContainerManager& cm = *options_.containers;
  // Every alias first: each container's /etc/hosts names all of them.
  std::vector<std::vector<std::string>> aliases;
  for (const auto& svc : services) {
    GANTRY_ASSIGN_OR_RETURN(auto names, service_aliases(svc));
    for (const auto& n : names) {
      if (std::find(hosts_.names.begin(), hosts_.names.end(), n) == hosts_.names.end()) {
        hosts_.names.push_back(n);
      }
    }
    aliases.push_back(std::move(names));
  }

  for (size_t i = 0; i < services.size(); ++i) {
    if (stop.stop_requested()) return Error(ErrorCode::kCancelled, "canceled");
    const auto& svc = services[i];
    auto s = std::make_unique<Running>();
    s->spec = svc;
    s->display = svc.name;
    if (svc.alias) s->display += " (alias " + *svc.alias + ")";
    s->hostname = aliases[i].empty() ? "" : aliases[i].front();
    log_.info("Starting service " + svc.name + " ...");

    std::vector<PullPolicy> policies;
    for (const auto& text : svc.pull_policy) {
      auto p = parse_pull_policy(text);
      if (!p.ok()) {
        pull_failed_ = true;
        return std::move(p).error().with_context("service " + q(svc.name));
      }
      policies.push_back(*p);
    }
    if (policies.empty()) policies.push_back(PullPolicy::kIfNotPresent);
    Result<runtime::image::ImageRecord> record = Error(ErrorCode::kInternal, "no pull policy");
    for (size_t k = 0; k < policies.size(); ++k) {
      record = cm.ensure_image(svc.name, policies[k], options_.pull);
      if (record.ok()) break;
      if (k + 1 < policies.size()) {
        log_.warning(record.error().message() + "; trying the next pull policy");
      }
    }
    if (!record.ok()) {
      pull_failed_ = true;
      return std::move(record).error().with_context("service " + q(svc.name));
    }
    log_.info("Using image " + svc.name + " with digest " + record->digest + " for service " +
              s->display + " ...");

    // The job's variables, then the service's own (expanded against the job's), as GitLab
    // passes both to a service.
    schema::VariableSet env = job_vars;
    for (const auto& v : svc.variables) {
      env.set(v.name, v.expand ? schema::expand_for_display(v.value, job_vars) : v.value, v.expand);
    }
    GANTRY_ASSIGN_OR_RETURN(auto config, cm.image_config(*record));
    auto ports = health_check_ports(config.exposed_ports, env.value_of("HEALTHCHECK_TCP_PORT"));
    if (!ports.ok()) return std::move(ports).error().with_context("service " + q(svc.name));
    s->ports = std::move(ports).value();

    ContainerConfig cfg;
    cfg.image = svc.name;
    cfg.pull_policy = PullPolicy::kNever;  // got above
    cfg.pull = options_.pull;
    if (svc.entrypoint) {
      std::vector<std::string> ep;  // `entrypoint: [""]` (GitLab's idiom) means none
      for (const auto& a : *svc.entrypoint) {
        if (!a.empty()) ep.push_back(a);
      }
      cfg.run.entrypoint = ep;
    }
    if (svc.command) cfg.run.cmd = *svc.command;
    for (const auto& v : env.entries()) cfg.run.env.push_back(v.name + "=" + v.value);
    cfg.network = options_.network;
    if (cfg.network.address.empty()) cfg.network.address = options_.address;
    cfg.extra_hosts = {hosts_};
    cfg.hostname = s->hostname;
    cfg.labels = options_.labels;
    cfg.labels["gantry.service.name"] = svc.name;
    cfg.labels["gantry.service.index"] = std::to_string(i);
    auto id = cm.create(cfg);
    if (!id.ok()) return std::move(id).error().with_context("create service " + q(svc.name));
    s->id = *id;

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      Error e = sys_error("service " + q(svc.name) + ": create output pipe");
      services_.push_back(std::move(s));
      return e;
    }
    s->output.reset(fds[0]);
    UniqueFd write_end(fds[1]);
    ContainerIo io;
    io.output_fd = write_end.get();
    Status started = cm.start(s->id, io);
    write_end.reset();  // the manager keeps its own copy
    Running& r = *s;
    services_.push_back(std::move(s));
    if (!started.ok())
      return std::move(started).error().with_context("start service " + q(svc.name));
    r.started = true;
    r.pump = std::make_unique<OutputPump>(r.output.get(),
                                          [this, &r](std::string_view b) { read_output(r, b); });
    r.watcher = std::thread([this, &r, &cm] {
      auto exit = cm.wait(r.id);
      // Ended by stop_all()'s kill, or on its own (also when that happened just before the
      // kill came: the manager says whether its stop did it).
      bool by_us = r.stopping && (!exit.ok() || exit->canceled);
      {
        std::lock_guard lock(r.mu);
        r.exit = std::move(exit);
      }
      r.exited = true;
      if (watching_ && !by_us && !r.reported.exchange(true)) {
        // Its last words first: the pipe holds what it wrote before it died.
        if (r.pump) r.pump->drain();
        report_exit(r);
      }
    });
    logger("agent")->info("service started name={} id={}", svc.name, r.id);
  }
  return ok_status();
}

void ServiceSet::read_output(Running& s, std::string_view chunk) {
  std::vector<std::string> lines;
  {
    std::lock_guard lock(s.mu);
    s.tail.append(chunk);
    if (s.tail.size() > options_.tail_bytes) {
      // Cut at a line start when there is one, so the tail begins with a whole line.
      size_t cut = s.tail.size() - options_.tail_bytes;
      auto nl = s.tail.find('\n', cut);
      s.tail.erase(0, nl != std::string::npos && nl + 1 < s.tail.size() ? nl + 1 : cut);
    }
    if (!options_.debug) return;
    s.line.append(chunk);
    for (size_t nl = s.line.find('\n'); nl != std::string::npos; nl = s.line.find('\n')) {
      lines.push_back(s.line.substr(0, nl));
      s.line.erase(0, nl + 1);
    }
  }
  for (const auto& l : lines) log_.output(s.hostname.empty() ? s.spec.name : s.hostname, l);
}

std::string ServiceSet::output_tail(size_t i) const {
  const Running& s = *services_.at(i);
  std::lock_guard lock(s.mu);
  return s.tail;
}

void ServiceSet::warn_about(const Running& s, const std::string& problem) {
  // The runner's shape, so a GitLab user knows it at a glance.
  log_.warning("Service " + s.display + " probably didn't start properly.");
  log_.info("");
  log_.info("Health check error:");
  log_.info(problem);
  log_.info("");
  log_.info("Service container logs:");
  std::string tail;
  {
    std::lock_guard lock(s.mu);
    tail = s.tail;
  }
  if (tail.empty()) tail = "(no output)";
  if (tail.back() == '\n') tail.pop_back();
  size_t start = 0;
  for (size_t nl = tail.find('\n'); ; nl = tail.find('\n', start)) {
    log_.info(tail.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  log_.info("");
  log_.info("*********");
}

Result<size_t> ServiceSet::wait_ready(const std::string& netns_path, Clock::time_point deadline,
                                      std::stop_token stop) {
  netns_path_ = netns_path;
  std::vector<PortProbe> probes;
  for (size_t i = 0; i < services_.size(); ++i) {
    if (!services_[i]->started) continue;
    for (auto p : services_[i]->ports) probes.push_back({i, p});
  }
  auto seconds = std::chrono::ceil<std::chrono::seconds>(deadline - Clock::now());
  GANTRY_ASSIGN_OR_RETURN(
      auto closed, wait_for_ports(netns_path, options_.address, probes, deadline, stop,
                                  [this](size_t i) { return services_[i]->exited.load(); }));
  size_t bad = 0;
  for (size_t i = 0; i < services_.size(); ++i) {
    const Running& s = *services_[i];
    if (!s.started) continue;
    std::string problem;
    if (s.exited) {
      services_[i]->reported = true;  // the health check's warning says it
      // Its last words first: what it wrote before it died may still be in the pipe.
      if (s.pump) s.pump->drain();
      std::optional<Result<ContainerExit>> exit;
      {
        std::lock_guard lock(s.mu);
        exit = s.exit;
      }
      if (exit && exit->ok()) {
        problem = "service " + q(s.spec.name) + " exited with code " +
                  std::to_string((*exit)->exit_code) + " before the job started";
      } else if (exit) {
        problem = "service " + q(s.spec.name) + " could not run: " + exit->error().message();
      }
    } else {
      std::string ports;
      for (const auto& p : closed) {
        if (p.service == i) ports += (ports.empty() ? "" : ", ") + std::to_string(p.port) + "/tcp";
      }
      if (!ports.empty()) {
        problem = "service " + q(s.spec.name) + ": port" +
                  (ports.find(',') != std::string::npos ? "s " : " ") + ports +
                  " did not accept a connection within " +
                  std::to_string(std::max<std::int64_t>(seconds.count(), 0)) + "s";
      }
    }
    if (!problem.empty()) {
      ++bad;
      warn_about(s, problem);
    } else {
      services_[i]->healthy = !s.ports.empty();
    }
  }
  return bad;
}

void ServiceSet::report_exit(const Running& s) {
  std::optional<Result<ContainerExit>> exit;
  std::string tail;
  {
    std::lock_guard lock(s.mu);
    exit = s.exit;
    tail = s.tail;
  }
  std::string how = "ended";
  if (exit && exit->ok()) {
    const ContainerExit& e = **exit;
    how = e.signal != 0 ? "was killed by signal " + std::to_string(e.signal)
                        : "exited with code " + std::to_string(e.exit_code);
    if (e.oom_killed) how += " (out of memory)";
  } else if (exit) {
    how = "failed: " + exit->error().message();
  }
  // Only the last lines: the whole tail was for the health check's diagnosis.
  constexpr size_t kLastLines = 20;
  if (!tail.empty() && tail.back() == '\n') tail.pop_back();
  std::vector<std::string> lines;
  for (size_t start = 0; !tail.empty();) {
    size_t nl = tail.find('\n', start);
    lines.push_back(tail.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  if (lines.size() > kLastLines) lines.erase(lines.begin(), lines.end() - kLastLines);
  log_.warning("Service " + s.display + " " + how + " while the job was running.");
  log_.info("Service container logs (last lines):");
  if (lines.empty()) log_.info("(no output)");
  for (const auto& l : lines) log_.info(l);
  log_.info("*********");
  logger("agent")->warn("service ended during the job name={} id={} how={}", s.spec.name, s.id,
                        how);
}

void ServiceSet::watch_exits() {
  if (watching_.exchange(true)) return;
  for (auto& s : services_) {
    if (s->started && s->exited && !s->stopping && !s->reported.exchange(true)) {
      if (s->pump) s->pump->drain();
      report_exit(*s);
    }
  }
}

void ServiceSet::await_exits_underway() {
  // A healthy service's ports accept at once; a dying one's stay closed until its exit drops
  // its probes. What is still closed after the grace is killed like every other service.
  constexpr auto kExitGrace = std::chrono::seconds(5);
  std::vector<PortProbe> probes;
  for (size_t i = 0; i < services_.size(); ++i) {
    if (!services_[i]->healthy || services_[i]->exited) continue;
    for (auto p : services_[i]->ports) probes.push_back({i, p});
  }
  if (probes.empty()) return;
  auto closed = wait_for_ports(netns_path_, options_.address, std::move(probes),
                               Clock::now() + kExitGrace, {},
                               [this](size_t i) { return services_[i]->exited.load(); });
  if (!closed.ok()) logger("agent")->warn("service exit check: {}", closed.error().message());
}

void ServiceSet::stop_all() {
  ContainerManager* cm = options_.containers;
  if (cm == nullptr) return;
  if (watching_) await_exits_underway();
  for (auto& s : services_) {
    if (s->started && !s->exited && !s->stopping.exchange(true)) {
      auto r = cm->stop(s->id, std::chrono::milliseconds(0));
      if (!r.ok() && !s->exited) {
        log_.warning("stop service " + s->spec.name + ": " + r.error().message());
      }
    }
  }
  for (auto& s : services_) {
    if (s->cleaned) continue;
    if (s->watcher.joinable()) s->watcher.join();
    if (s->pump) s->pump->drain();
    if (options_.debug) {
      std::string rest;
      {
        std::lock_guard lock(s->mu);
        rest.swap(s->line);
      }
      if (!rest.empty()) log_.output(s->hostname.empty() ? s->spec.name : s->hostname, rest);
    }
    if (!s->id.empty()) {
      Status removed = cm->remove(s->id);
      if (!removed.ok()) {
        log_.warning("remove service " + s->spec.name + " container " + s->id + ": " +
                     removed.error().message());
      }
    }
    s->cleaned = true;
  }
}

}  // namespace gantry::agent
