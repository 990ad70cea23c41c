// Services: a job's `services:` run as GitLab's runner runs them. Each service is a container
// from its image, started in the background in the job's pod network (agent/network.h) and
// reached by its aliases, which /etc/hosts maps to the pod's address in the job's and in every
// service's container. Before the script, each service's exposed TCP ports must accept a
// connection (probed from inside the pod's namespace) within a timeout; a service that fails
// is a warning with its log tail, and the job goes on. So is a service that exits later, while
// the job runs. Pure helpers first, then ServiceSet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/container_manager.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "pipeline-schema/pipeline.h"
#include "pipeline-schema/variables.h"

namespace gantry::agent {

class OutputPump;  // agent/output_pump.h

// The names of an explicit `alias:` value: GitLab accepts several, separated by commas and/or
// whitespace ("db, postgres primary" → db, postgres, primary).
std::vector<std::string> split_aliases(std::string_view alias);

// GitLab's default aliases of a service image: the name without tag, digest and registry port,
// with '/' replaced by "__" (primary) and by '-' (secondary; left out when the same):
//   "registry.example.com:5000/group/postgres:13" → registry.example.com__group__postgres,
//   registry.example.com-group-postgres;  "redis:7" → redis.
std::vector<std::string> default_service_aliases(std::string_view image);

// Every name of `svc`: its explicit aliases, then the defaults of its image, without
// duplicates. kInvalidArgument when an explicit alias is not a valid host name (naming the
// service and the alias); default aliases that are not valid host names are left out, as the
// runner does.
Result<std::vector<std::string>> service_aliases(const schema::Service& svc);

// The TCP ports the health check probes: `override_port` (the service's HEALTHCHECK_TCP_PORT)
// when set, else every TCP entry of the image's ExposedPorts ("6379/tcp", "80"), ascending and
// without duplicates; UDP and SCTP entries are skipped. kInvalidArgument names a bad value.
Result<std::vector<std::uint16_t>> health_check_ports(
    const std::vector<std::string>& exposed_ports, const std::optional<std::string>& override_port);

struct PortProbe {
  size_t service = 0;  // the caller's index, handed back
  std::uint16_t port = 0;
  bool operator==(const PortProbe&) const = default;
};

// Waits until a TCP connection to `address`:port is accepted for every probe. The probes run on
// a thread of its own that first enters the network namespace at `netns_path` ("": the
// caller's), so no other thread of this process changes namespace. A service's probes are
// dropped as soon as `gone(service)` returns true (its container exited; called on the probing
// thread). Returns the probes that never connected (of services not gone) once `deadline`
// passes, or none when all connected. kCancelled when `stop` is requested; an error naming the
// path when the namespace cannot be entered, or the address when it is not an IPv4 address.
Result<std::vector<PortProbe>> wait_for_ports(const std::string& netns_path,
                                              const std::string& address,
                                              std::vector<PortProbe> probes,
                                              std::chrono::steady_clock::time_point deadline,
                                              std::stop_token stop,
                                              const std::function<bool(size_t)>& gone);

// Where ServiceSet reports. info/warning are whole lines of gantry's own; output() carries a
// service's output line by line when debugging is on. Called from the caller's thread, except
// output(), which comes from each service's own reader thread, and the report of a service
// that exited while the job runs (after watch_exits()), which comes from that service's
// watcher thread: implementations must serialize.
class ServiceLog {
 public:
  virtual ~ServiceLog() = default;
  virtual void info(std::string_view line) = 0;
  virtual void warning(std::string_view line) = 0;
  virtual void output(std::string_view service, std::string_view line) = 0;
};

struct ServiceSetOptions {
  ContainerManager* containers = nullptr;  // required; borrowed
  runtime::image::PullOptions pull;
  ContainerNetwork network;  // how service containers join the job: kJoin (the pod) or kHost
  std::string address = "127.0.0.1";  // where the aliases point (the pod's address)
  std::map<std::string, std::string> labels;  // added to each service container's labels
  bool debug = false;  // CI_DEBUG_SERVICES: every line of service output goes to output()
  size_t tail_bytes = 64 * 1024;  // how much of each service's output is kept for warnings
};

// One job's services, from start to removal. Used by one thread (the JobExecutor's); it runs a
// reader and a watcher thread per started service. The destructor stops and removes what is
// still there, so no path leaves a container behind.
class ServiceSet {
 public:
  ServiceSet(ServiceSetOptions options, ServiceLog& log);
  ~ServiceSet();
  ServiceSet(const ServiceSet&) = delete;
  ServiceSet& operator=(const ServiceSet&) = delete;

  // Computes every alias, then for each service in order: gets its image (its pull_policy
  // list tried in order, default if-not-present), creates its container (job variables plus
  // its own, its entrypoint/command else the image's, /etc/hosts with every alias) and starts
  // it. On error the services started so far stay for stop_all(); pull_failed() says whether
  // the error was getting an image. kCancelled when `stop` is requested.
  Status start(const std::vector<schema::Service>& services, const schema::VariableSet& job_vars,
               std::stop_token stop);
  bool pull_failed() const { return pull_failed_; }

  // The /etc/hosts entry that maps every service alias to the pod address (for the job's
  // container); empty names before start().
  const HostEntry& hosts() const { return hosts_; }

  // The health check: waits (see wait_for_ports) until each started service's ports accept
  // connections, up to `deadline`. Every service that exited or kept a port closed gets a
  // warning with the tail of its output; the result is the number of such services.
  // kCancelled when `stop` is requested.
  Result<size_t> wait_ready(const std::string& netns_path,
                            std::chrono::steady_clock::time_point deadline, std::stop_token stop);

  // From now on (the job's script is about to run), a service that exits on its own — not
  // stopped by stop_all() — is a warning in the log at once, naming it with its exit code or
  // signal and the last lines of its output; the job goes on, as GitLab's. Services that
  // already exited and that wait_ready() did not report are reported now. Idempotent.
  void watch_exits();

  // Kills (SIGKILL: services are disposable, as `docker rm -f`) every started service, waits
  // for it, then removes each container. Idempotent; problems become warnings. Once the script
  // ran (watch_exits()), a service that passed the health check but whose ports no longer
  // accept connections is on its way out: it gets a few seconds to end on its own first, so
  // its exit is reported with its code and last words instead of being hidden by the kill.
  void stop_all();

  size_t size() const { return services_.size(); }
  // The tail of service `i`'s output so far (for tests and warnings).
  std::string output_tail(size_t i) const;

 private:
  struct Running;
  void read_output(Running& s, std::string_view chunk);
  void warn_about(const Running& s, const std::string& problem);
  void report_exit(const Running& s);
  void await_exits_underway();

  ServiceSetOptions options_;
  ServiceLog& log_;
  HostEntry hosts_;
  std::vector<std::unique_ptr<Running>> services_;
  bool pull_failed_ = false;
  std::atomic<bool> watching_{false};
  std::string netns_path_;  // where wait_ready() probed
};

}  // namespace gantry::agent
