// idle_agents: simulates many idle `gantry agent`s long-polling a controller, for
// bench/controller.sh. It registers N agents (POST /api/v1/agent/register with the registration
// token, N distinct agent tokens), then keeps one connection per agent open with one
// `POST /api/v1/agent/jobs/request?wait=W` in flight at all times: when an answer comes (204
// after W seconds, or anything else) the same connection sends the request again. One thread,
// epoll, non-blocking sockets. Runs for --seconds S, then prints one line of counts:
//   agents=N connected=C polls_sent=.. answered_204=.. answered_other=.. reconnects=.. errors=..
// and "ready" on stderr once every connection has its first request sent, for the script to
// start measuring. Only loopback addresses (http://127.0.0.1:PORT).
//
//   gantry_bench_idle_agents --url http://127.0.0.1:PORT --registration-token T
//                            [--agents 1000] [--wait 30] [--seconds 40]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/json.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "idle_agents: %s\n", message.c_str());
  std::exit(1);
}

struct Conn {
  int fd = -1;
  std::string request;  // the whole long-poll request, resent after each answer
  size_t sent = 0;
  std::string in;
  bool connecting = false;
  bool ever_sent = false;
};

struct Counts {
  long polls_sent = 0;
  long answered_204 = 0;
  long answered_other = 0;
  long reconnects = 0;
  long errors = 0;
};

// Whether `in` holds one whole response; if so, its status and its total length.
bool whole_response(const std::string& in, int& status, size_t& length) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  if (in.size() < 12) return false;
  status = std::atoi(in.c_str() + 9);
  size_t body = 0;
  std::string head = in.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto cl = head.find("\r\ncontent-length:");
  if (cl != std::string::npos) body = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
  length = end + 4 + body;
  return in.size() >= length;
}

class Simulator {
 public:
  Simulator(sockaddr_in addr, int epfd) : addr_(addr), epfd_(epfd) {}

  void open(Conn& c) {
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) die(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.sent = 0;
    c.in.clear();
    int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_);
    if (r < 0 && errno != EINPROGRESS) die(std::string("connect: ") + std::strerror(errno));
    c.connecting = true;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &c;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) < 0) die("epoll_ctl add");
  }

  void reopen(Conn& c) {
    ::close(c.fd);
    counts_.reconnects++;
    open(c);
  }

  void want(Conn& c, uint32_t events) {
    epoll_event ev{};
    ev.events = events | EPOLLRDHUP;
    ev.data.ptr = &c;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Returns whether this connection has just sent its first request.
  bool on_event(Conn& c, uint32_t events) {
    bool first_sent = false;
    if (c.connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        counts_.errors++;
        reopen(c);
        return false;
      }
      c.connecting = false;
    }
    if (c.sent < c.request.size() && (events & EPOLLOUT)) {
      ssize_t n = ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent,
                         MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) {
        counts_.errors++;
        reopen(c);
        return false;
      }
      if (n > 0) c.sent += static_cast<size_t>(n);
      if (c.sent == c.request.size()) {
        if (!c.ever_sent) first_sent = c.ever_sent = true;
        counts_.polls_sent++;
        want(c, EPOLLIN);
      }
    }
    if (events & EPOLLIN) {
      char buf[4096];
      for (;;) {
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
          c.in.append(buf, static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && errno == EAGAIN) break;
        // Closed by the controller (idle timeout, shutdown) or reset: connect again.
        reopen(c);
        return first_sent;
      }
      int status = 0;
      size_t length = 0;
      if (whole_response(c.in, status, length)) {
        (status == 204 ? counts_.answered_204 : counts_.answered_other)++;
        if (status != 204 && status != 200) {
          std::fprintf(stderr, "idle_agents: answer %d: %s\n", status, c.in.c_str());
        }
        c.in.erase(0, length);
        c.sent = 0;
        want(c, EPOLLOUT);
      }
    } else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
      reopen(c);
    }
    return first_sent;
  }

  const Counts& counts() const { return counts_; }

 private:
  sockaddr_in addr_;
  int epfd_;
  Counts counts_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string url, reg_token;
  long agents = 1000, wait = 30, seconds = 40;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) die("option '" + a + "' needs a value");
    std::string v = argv[++i];
    if (a == "--url") url = v;
    else if (a == "--registration-token") reg_token = v;
    else if (a == "--agents") agents = std::atol(v.c_str());
    else if (a == "--wait") wait = std::atol(v.c_str());
    else if (a == "--seconds") seconds = std::atol(v.c_str());
    else die("unknown option '" + a + "'");
  }
  if (url.empty() || reg_token.empty()) die("--url and --registration-token are required");
  if (agents <= 0 || wait < 0 || seconds <= 0) die("--agents/--seconds must be positive");
  auto parsed = http::parse_url(url);
  if (!parsed.ok()) die(parsed.error().message());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(parsed->port);
  if (::inet_pton(AF_INET, parsed->host.c_str(), &addr.sin_addr) != 1) {
    die("--url: host '" + parsed->host + "' is not an IPv4 address");
  }

  // One fd per agent plus a few; the default soft limit (1024) is too low for 1,000.
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }

  // Registration, one agent after the other over one kept-alive connection.
  std::vector<Conn> conns(static_cast<size_t>(agents));
  {
    http::Client client;
    for (long i = 0; i < agents; ++i) {
      http::ClientRequest req;
      req.method = "POST";
      req.url = url + "/api/v1/agent/register";
      req.headers.set("Authorization", "Bearer " + reg_token);
      req.headers.set("Content-Type", "application/json");
      req.body = Json{{"name", "idle-" + std::to_string(i)}, {"labels", {"bench-idle"}}}.dump();
      auto r = client.send(req);
      if (!r.ok()) die("register agent " + std::to_string(i) + ": " + r.error().message());
      if (r->status != 201) die("register agent " + std::to_string(i) + ": " + r->body);
      auto j = parse_json(r->body, "register answer");
      if (!j.ok()) die(j.error().message());
      std::string token = (*j)["token"].get<std::string>();
      conns[static_cast<size_t>(i)].request =
          "POST /api/v1/agent/jobs/request?wait=" + std::to_string(wait) +
          " HTTP/1.1\r\nHost: " + parsed->authority() + "\r\nAuthorization: Bearer " + token +
          "\r\nContent-Length: 0\r\n\r\n";
    }
  }

  int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  Simulator sim(addr, epfd);
  for (auto& c : conns) sim.open(c);
  size_t first = 0;
  bool ready = false;
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  std::vector<epoll_event> events(1024);
  while (Clock::now() < deadline) {
    int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 200);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (sim.on_event(*static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr),
                       events[static_cast<size_t>(i)].events)) {
        ++first;
      }
    }
    if (!ready && first >= conns.size()) {
      ready = true;
      std::fprintf(stderr, "ready\n");
    }
  }
  long connected = 0;
  for (auto& c : conns) {
    if (!c.connecting) ++connected;
    ::close(c.fd);
  }
  ::close(epfd);
  const Counts& k = sim.counts();
  std::printf("agents=%ld connected=%ld polls_sent=%ld answered_204=%ld answered_other=%ld "
              "reconnects=%ld errors=%ld\n",
              agents, connected, k.polls_sent, k.answered_204, k.answered_other, k.reconnects,
              k.errors);
  return 0;
}
