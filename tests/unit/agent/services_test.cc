// Services without containers: GitLab's alias rules, the ports the health check probes, the
// port wait against loopback listeners of the test's own, and ServiceSet over the fake
// container manager (what each service container is given, warnings with the log tail,
// cleanup).
#include "agent/services.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/unique_fd.h"
#include "tests/fakes/fake_container_manager.h"

namespace gantry::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Strings = std::vector<std::string>;

TEST(ServiceAliasTest, DefaultAliasesFollowTheRunnersRules) {
  EXPECT_EQ(
      default_service_aliases("registry.example.com/group/postgres:13"),
      (Strings{"registry.example.com__group__postgres", "registry.example.com-group-postgres"}));
  EXPECT_EQ(default_service_aliases("redis:7"), (Strings{"redis"}));
  EXPECT_EQ(default_service_aliases("redis"), (Strings{"redis"}));
  EXPECT_EQ(default_service_aliases("tutum/wordpress:latest"),
            (Strings{"tutum__wordpress", "tutum-wordpress"}));
  // The registry's port goes, the tag and the digest too.
  EXPECT_EQ(default_service_aliases("localhost:5000/db/mysql:8@sha256:abcd"),
            (Strings{"localhost__db__mysql", "localhost-db-mysql"}));
  EXPECT_EQ(default_service_aliases("registry:5000"), (Strings{"registry"}));
  EXPECT_EQ(default_service_aliases("postgres@sha256:0123"), (Strings{"postgres"}));
}

TEST(ServiceAliasTest, ExplicitAliasesSplitOnCommasAndSpacesAndComeFirst) {
  EXPECT_EQ(split_aliases("db, primary  cache,,"), (Strings{"db", "primary", "cache"}));
  schema::Service svc;
  svc.name = "gantry.local/redis:bookworm";
  svc.alias = "cache,redis";
  auto names = service_aliases(svc);
  ASSERT_TRUE(names.ok()) << names.error().message();
  EXPECT_EQ(*names, (Strings{"cache", "redis", "gantry.local__redis", "gantry.local-redis"}));
}

TEST(ServiceAliasTest, InvalidExplicitAliasIsAnErrorNamingServiceAndAlias) {
  schema::Service svc;
  svc.name = "redis:7";
  svc.alias = "good bad!name";
  auto names = service_aliases(svc);
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(names.error().message().find("'redis:7'"), std::string::npos)
      << names.error().message();
  EXPECT_NE(names.error().message().find("'bad!name'"), std::string::npos)
      << names.error().message();
}

TEST(HealthCheckPortsTest, TcpExposedPortsAscendingOrTheOverride) {
  auto p = health_check_ports({"8080/tcp", "53/udp", "443", "80/tcp", "8080/tcp"}, std::nullopt);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(*p, (std::vector<std::uint16_t>{80, 443, 8080}));
  auto o = health_check_ports({"80/tcp"}, std::string("5432"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (std::vector<std::uint16_t>{5432}));
  EXPECT_TRUE(health_check_ports({}, std::nullopt)->empty());
  auto bad = health_check_ports({"80/tcp"}, std::string("70000"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("HEALTHCHECK_TCP_PORT '70000'"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(health_check_ports({"http/tcp"}, std::nullopt).ok());
}

// A loopback TCP socket bound to a free port; listening only once listen() is called, so
// until then a connection to it is refused and nobody else can take the port.
class LoopbackPort {
 public:
  LoopbackPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len), 0);
    port_ = ntohs(sa.sin_port);
  }
  void listen() { EXPECT_EQ(::listen(fd_.get(), 8), 0); }
  void close() { fd_.reset(); }
  std::uint16_t port() const { return port_; }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
};

TEST(WaitForPortsTest, ReturnsOnceEveryPortAcceptsAndReportsTheOnesThatNeverDid) {
  LoopbackPort open_now, opens_later, never;
  open_now.listen();
  std::atomic<int> rounds{0};
  // gone() is asked once per probe per round: the second round opens the late port, so the
  // wait must retry rather than give up after its first try.
  auto gone = [&](size_t service) {
    if (service == 1 && ++rounds == 2) opens_later.listen();
    return false;
  };
  auto closed = wait_for_ports("", "127.0.0.1",
                               {{0, open_now.port()}, {1, opens_later.port()}},
                               Clock::now() + std::chrono::minutes(5), {}, gone);
  ASSERT_TRUE(closed.ok()) << closed.error().message();
  EXPECT_TRUE(closed->empty());
  EXPECT_GE(rounds.load(), 2);

  // A port that never opens is reported when the deadline passes.
  auto left = wait_for_ports("", "127.0.0.1", {{0, open_now.port()}, {3, never.port()}},
                             Clock::now() + std::chrono::milliseconds(300), {},
                             [](size_t) { return false; });
  ASSERT_TRUE(left.ok()) << left.error().message();
  EXPECT_EQ(*left, (std::vector<PortProbe>{{3, never.port()}}));
}

TEST(WaitForPortsTest, AGoneServiceEndsItsWaitAndStopCancels) {
  LoopbackPort never;
  // No deadline to speak of: only gone() can end this wait.
  auto closed = wait_for_ports("", "127.0.0.1", {{0, never.port()}},
                               Clock::now() + std::chrono::hours(1), {},
                               [](size_t) { return true; });
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->empty());

  std::stop_source stop;
  stop.request_stop();
  auto canceled = wait_for_ports("", "127.0.0.1", {{0, never.port()}},
                                 Clock::now() + std::chrono::hours(1), stop.get_token(),
                                 [](size_t) { return false; });
  ASSERT_FALSE(canceled.ok());
  EXPECT_EQ(canceled.error().code(), ErrorCode::kCancelled);

  auto bad_ns = wait_for_ports("/nonexistent/netns", "127.0.0.1", {{0, never.port()}},
                               Clock::now() + std::chrono::hours(1), {},
                               [](size_t) { return false; });
  ASSERT_FALSE(bad_ns.ok());
  EXPECT_NE(bad_ns.error().message().find("'/nonexistent/netns'"), std::string::npos);
}

class RecordingLog : public ServiceLog {
 public:
  void info(std::string_view line) override { add(std::string(line)); }
  void warning(std::string_view line) override { add("WARNING: " + std::string(line)); }
  void output(std::string_view service, std::string_view line) override {
    add("[" + std::string(service) + "] " + std::string(line));
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  // Waits until the log holds `s` (written from another thread).
  void wait_for(const std::string& s) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return text_.find(s) != std::string::npos; });
  }

 private:
  void add(const std::string& s) {
    std::lock_guard lock(mu_);
    text_ += s + "\n";
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
};

class ServiceSetTest : public ::testing::Test {
 protected:
  ServiceSetOptions options() {
    ServiceSetOptions o;
    o.containers = &fake_;
    o.network = {ContainerNetwork::Mode::kJoin, "/pods/p1", "127.0.0.1"};
    o.labels = {{"gantry.job.id", "7"}};
    return o;
  }
  testing::FakeContainerManager fake_;
  RecordingLog log_;
};

TEST_F(ServiceSetTest, EachServiceGetsItsImageVariablesCommandAndEveryAlias) {
  fake_.present = {"postgres:16", "gantry.local/redis:7"};
  schema::Service db;
  db.name = "postgres:16";
  db.variables = {{"POSTGRES_DB", "app_$CI_JOB_ID", {}, {}, true, {}},
                  {"LITERAL", "$CI_JOB_ID", {}, {}, false, {}}};
  schema::Service cache;
  cache.name = "gantry.local/redis:7";
  cache.alias = "cache";
  cache.entrypoint = std::vector<std::string>{""};
  cache.command = std::vector<std::string>{"redis-server", "--port", "6379"};
  schema::VariableSet job_vars;
  job_vars.set("CI_JOB_ID", "7");
  {
    ServiceSet set(options(), log_);
    ASSERT_TRUE(set.start({db, cache}, job_vars, {}).ok()) << log_.text();
    EXPECT_EQ(set.hosts().address, "127.0.0.1");
    EXPECT_EQ(set.hosts().names,
              (Strings{"postgres", "cache", "gantry.local__redis", "gantry.local-redis"}));
    ASSERT_EQ(fake_.created.size(), 2u);
    const auto& c0 = fake_.created[0];
    EXPECT_EQ(c0.image, "postgres:16");
    EXPECT_FALSE(c0.run.entrypoint.has_value()) << "the image's entrypoint";
    EXPECT_TRUE(c0.run.cmd.empty()) << "the image's cmd";
    auto has = [](const ContainerConfig& c, const std::string& kv) {
      return std::find(c.run.env.begin(), c.run.env.end(), kv) != c.run.env.end();
    };
    EXPECT_TRUE(has(c0, "CI_JOB_ID=7"));
    EXPECT_TRUE(has(c0, "POSTGRES_DB=app_7"));
    EXPECT_TRUE(has(c0, "LITERAL=$CI_JOB_ID"));
    EXPECT_FALSE(has(fake_.created[1], "POSTGRES_DB=app_7")) << "a service's variables are its own";
    EXPECT_EQ(c0.network.mode, ContainerNetwork::Mode::kJoin);
    EXPECT_EQ(c0.network.netns_path, "/pods/p1");
    ASSERT_EQ(c0.extra_hosts.size(), 1u);
    EXPECT_EQ(c0.extra_hosts[0].names, set.hosts().names);
    EXPECT_EQ(c0.hostname, "postgres");
    EXPECT_EQ(c0.labels.at("gantry.job.id"), "7");
    const auto& c1 = fake_.created[1];
    EXPECT_EQ(c1.hostname, "cache");
    EXPECT_EQ(c1.run.entrypoint, std::vector<std::string>{});
    EXPECT_EQ(c1.run.cmd, (Strings{"redis-server", "--port", "6379"}));
    EXPECT_EQ(fake_.live.size(), 2u);
  }
  // The destructor stopped and removed both.
  EXPECT_TRUE(fake_.live.empty());
  auto ev = fake_.events_snapshot();
  EXPECT_EQ(ev,
            (Strings{"create fake1 postgres:16", "start fake1", "create fake2 gantry.local/redis:7",
                     "start fake2", "stop fake1", "stop fake2", "remove fake1", "remove fake2"}));
}

TEST_F(ServiceSetTest, AServiceThatExitsIsAWarningWithItsLogTailAndTheOthersAreReady) {
  LoopbackPort port, closed;
  port.listen();
  fake_.present = {"good:1", "bad:1"};
  fake_.configs["good:1"].exposed_ports = {std::to_string(port.port()) + "/tcp"};
  fake_.configs["bad:1"].exposed_ports = {std::to_string(closed.port()) + "/tcp"};
  testing::FakeContainerManager::ServiceBehavior bad;
  bad.output = "starting\nFATAL: data directory has wrong ownership\n";
  bad.exits = ContainerExit{1, 0, false, false, false};
  fake_.services["bad:1"] = bad;
  schema::Service g, b;
  g.name = "good:1";
  b.name = "bad:1";
  ServiceSet set(options(), log_);
  ASSERT_TRUE(set.start({g, b}, {}, {}).ok());
  // The port of bad:1 stays closed; its exit, not the (hour-long) deadline, ends the wait.
  auto n = set.wait_ready("", Clock::now() + std::chrono::hours(1), {});
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 1u);
  std::string text = log_.text();
  EXPECT_NE(text.find("WARNING: Service bad:1 probably didn't start properly."), std::string::npos)
      << text;
  EXPECT_NE(text.find("service 'bad:1' exited with code 1"), std::string::npos) << text;
  EXPECT_NE(text.find("FATAL: data directory has wrong ownership"), std::string::npos) << text;
  EXPECT_EQ(text.find("Service good:1 probably"), std::string::npos) << text;
  set.stop_all();
  EXPECT_TRUE(fake_.live.empty());
  set.stop_all();  // idempotent
}

TEST_F(ServiceSetTest, AServiceThatExitsWhileTheJobRunsIsAWarningWithItsLastLines) {
  LoopbackPort port;
  port.listen();
  fake_.present = {"flaky:1", "steady:1"};
  fake_.configs["flaky:1"].exposed_ports = {std::to_string(port.port()) + "/tcp"};
  fake_.services["flaky:1"].output = "ready to accept connections\nsegfault in worker\n";
  schema::Service flaky, steady;
  flaky.name = "flaky:1";
  flaky.alias = "db";
  steady.name = "steady:1";
  ServiceSet set(options(), log_);
  ASSERT_TRUE(set.start({flaky, steady}, {}, {}).ok());
  auto n = set.wait_ready("", Clock::now() + std::chrono::hours(1), {});
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 0u);  // its health check passed
  set.watch_exits();
  fake_.end_service("fake1", ContainerExit{139, 11, false, false, false});
  log_.wait_for("*********");
  std::string text = log_.text();
  EXPECT_NE(text.find("WARNING: Service flaky:1 (alias db) was killed by signal 11 while the job "
                      "was running."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("segfault in worker"), std::string::npos) << text;
  EXPECT_EQ(text.find("probably didn't start properly"), std::string::npos) << text;
  // Services that gantry stops at the end are not reported.
  set.stop_all();
  EXPECT_EQ(log_.text(), text);
  EXPECT_TRUE(fake_.live.empty());
}

// The job ended right after its service closed its port, before the service's exit came
// through: stop_all() waits for that exit rather than killing the service, so the job's log
// still says how it ended. A service whose port still accepts is killed at once.
TEST_F(ServiceSetTest, AServiceOnItsWayOutWhenTheJobEndsIsReportedNotKilled) {
  LoopbackPort dying, steady;
  dying.listen();
  steady.listen();
  fake_.present = {"web:1", "db:1"};
  fake_.configs["web:1"].exposed_ports = {std::to_string(dying.port()) + "/tcp"};
  fake_.configs["db:1"].exposed_ports = {std::to_string(steady.port()) + "/tcp"};
  fake_.services["web:1"].output = "service-going-away\n";
  schema::Service web, db;
  web.name = "web:1";
  db.name = "db:1";
  ServiceSet set(options(), log_);
  ASSERT_TRUE(set.start({web, db}, {}, {}).ok());
  auto n = set.wait_ready("", Clock::now() + std::chrono::hours(1), {});
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 0u);
  set.watch_exits();
  dying.close();
  std::thread exiting([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fake_.end_service("fake1", ContainerExit{3, 0, false, false, false});
  });
  set.stop_all();
  exiting.join();
  std::string text = log_.text();
  EXPECT_NE(text.find("WARNING: Service web:1 exited with code 3 while the job was running."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("service-going-away"), std::string::npos) << text;
  EXPECT_EQ(text.find("Service db:1"), std::string::npos) << text;
  auto ev = fake_.events_snapshot();
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "stop fake1"), 0) << "the dying service was killed";
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "stop fake2"), 1);
  EXPECT_TRUE(fake_.live.empty());
}

TEST_F(ServiceSetTest, AServiceThatExitedBeforeTheHealthCheckIsReportedOnce) {
  fake_.present = {"bad:1"};
  testing::FakeContainerManager::ServiceBehavior bad;
  bad.output = "config error\n";
  bad.exits = ContainerExit{2, 0, false, false, false};
  fake_.services["bad:1"] = bad;
  LoopbackPort closed;
  fake_.configs["bad:1"].exposed_ports = {std::to_string(closed.port()) + "/tcp"};
  schema::Service b;
  b.name = "bad:1";
  ServiceSet set(options(), log_);
  ASSERT_TRUE(set.start({b}, {}, {}).ok());
  auto n = set.wait_ready("", Clock::now() + std::chrono::hours(1), {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  set.watch_exits();
  set.stop_all();
  std::string text = log_.text();
  EXPECT_NE(text.find("probably didn't start properly"), std::string::npos) << text;
  EXPECT_EQ(text.find("while the job was running"), std::string::npos) << text;
}

TEST_F(ServiceSetTest, APortThatNeverOpensIsAWarningNamingIt) {
  LoopbackPort closed;
  fake_.present = {"slow:1"};
  fake_.configs["slow:1"].exposed_ports = {std::to_string(closed.port()) + "/tcp"};
  fake_.services["slow:1"].output = "still loading\n";
  schema::Service s;
  s.name = "slow:1";
  s.alias = "slow";
  ServiceSet set(options(), log_);
  ASSERT_TRUE(set.start({s}, {}, {}).ok());
  auto n = set.wait_ready("", Clock::now() + std::chrono::milliseconds(200), {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  std::string text = log_.text();
  EXPECT_NE(text.find("port " + std::to_string(closed.port()) + "/tcp did not accept a connection"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("still loading"), std::string::npos) << text;
  EXPECT_NE(text.find("Service slow:1 (alias slow) probably"), std::string::npos) << text;
}

TEST_F(ServiceSetTest, DebugStreamsServiceOutputLineByLine) {
  fake_.present = {"chatty:1"};
  fake_.services["chatty:1"].output = "one\ntwo\nthree without newline";
  schema::Service s;
  s.name = "chatty:1";
  auto o = options();
  o.debug = true;
  {
    ServiceSet set(o, log_);
    ASSERT_TRUE(set.start({s}, {}, {}).ok());
  }
  std::string text = log_.text();
  EXPECT_NE(text.find("[chatty] one\n[chatty] two\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[chatty] three without newline"), std::string::npos) << text;
}

TEST_F(ServiceSetTest, PullFailureIsReportedAsSuchAndNothingIsLeft) {
  fake_.present = {"ok:1"};
  schema::Service a, b;
  a.name = "ok:1";
  b.name = "registry.example/missing:1";
  {
    ServiceSet set(options(), log_);
    Status st = set.start({a, b}, {}, {});
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(set.pull_failed());
    EXPECT_NE(st.error().message().find("service 'registry.example/missing:1': pull image"),
              std::string::npos)
        << st.error().message();
  }
  EXPECT_TRUE(fake_.live.empty());
}

TEST_F(ServiceSetTest, AStartErrorLeavesNothingBehind) {
  fake_.present = {"broken:1"};
  fake_.services["broken:1"].start_error = Error(ErrorCode::kIo, "exec: no such file");
  schema::Service a;
  a.name = "broken:1";
  {
    ServiceSet set(options(), log_);
    Status st = set.start({a}, {}, {});
    ASSERT_FALSE(st.ok());
    EXPECT_FALSE(set.pull_failed());
    EXPECT_NE(st.error().message().find("start service 'broken:1': exec: no such file"),
              std::string::npos)
        << st.error().message();
  }
  EXPECT_TRUE(fake_.live.empty());
}

}  // namespace
}  // namespace gantry::agent
