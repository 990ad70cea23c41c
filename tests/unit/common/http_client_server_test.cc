// The HTTP client against the HTTP server over loopback (port 0): bodies, redirects, caps,
// timeouts, keep-alive, graceful shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/digest.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace gantry::http {
namespace {

std::unique_ptr<Server> start_server(Handler handler, ServerOptions options = {}) {
  auto server = Server::start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.error().message();
  return std::move(server).value();
}

std::string big_text(size_t n) {
  std::string s(n, 'x');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7919) % 26);
  return s;
}

TEST(HttpClientServerTest, ContentLengthBodyRoundTrips) {
  std::string payload = big_text(3 << 20);
  auto server = start_server([&](const Request& r) {
    Response resp = text_response(200, r.method + " " + r.target + " " + r.body);
    if (r.path() == "/big") resp.body = payload;
    resp.headers.set("X-Seen-Host", r.headers.get("host").value_or(""));
    return resp;
  });
  Client client;
  ClientRequest req;
  req.method = "POST";
  req.url = server->url() + "/echo?x=1";
  req.body = "hello";
  auto resp = client.send(req);
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "POST /echo?x=1 hello");
  EXPECT_EQ(resp->headers.get("x-seen-host"), "127.0.0.1:" + std::to_string(server->port()));

  auto big = client.send({.url = server->url() + "/big"});
  ASSERT_TRUE(big.ok()) << big.error().message();
  EXPECT_EQ(big->body, payload);
  EXPECT_EQ(big->headers.get("Content-Length"), std::to_string(payload.size()));
}

TEST(HttpClientServerTest, ChunkedStreamedBodyArrivesInPiecesThroughTheSink) {
  auto server = start_server([](const Request&) {
    Response resp;
    auto n = std::make_shared<int>(0);
    resp.stream = [n]() -> Result<std::string> {
      if (*n == 50) return std::string();
      return "piece-" + std::to_string((*n)++) + ";";
    };
    return resp;
  });
  Client client;
  std::string got;
  int head_status = 0;
  std::optional<std::string> te;
  BodySink sink{.on_head =
                    [&](const ClientResponse& h) {
                      head_status = h.status;
                      te = h.headers.get("transfer-encoding");
                      return ok_status();
                    },
                .on_data =
                    [&](std::string_view d) {
                      got.append(d);
                      return ok_status();
                    }};
  auto resp = client.stream({.url = server->url() + "/log"}, sink);
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(head_status, 200);
  EXPECT_EQ(te, "chunked");
  EXPECT_TRUE(resp->body.empty());
  std::string want;
  for (int i = 0; i < 50; ++i) want += "piece-" + std::to_string(i) + ";";
  EXPECT_EQ(got, want);
}

TEST(HttpClientServerTest, SinkErrorAbortsTheRequest) {
  auto server = start_server([](const Request&) { return text_response(200, big_text(1 << 20)); });
  Client client;
  BodySink sink{
      .on_data = [](std::string_view) { return Status(Error(ErrorCode::kIo, "disk full")); }};
  auto resp = client.stream({.url = server->url() + "/"}, sink);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().message(), "disk full");
  // The aborted connection is not reused: the next request still works.
  auto again = client.send({.url = server->url() + "/"});
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->body.size(), 1u << 20);
}

TEST(HttpClientServerTest, ErrorStatusBodyIsCollectedNotStreamed) {
  auto server = start_server([](const Request&) { return text_response(404, "no such blob"); });
  Client client;
  bool data_called = false;
  BodySink sink{.on_data = [&](std::string_view) {
    data_called = true;
    return ok_status();
  }};
  auto resp = client.stream({.url = server->url() + "/"}, sink);
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->status, 404);
  EXPECT_EQ(resp->body, "no such blob");
  EXPECT_FALSE(data_called);
}

TEST(HttpClientServerTest, FollowsRelativeAndAbsoluteRedirectsDroppingAuthAcrossHosts) {
  std::mutex mu;
  std::vector<std::string> auth_seen_by_other;
  auto other = start_server([&](const Request& r) {
    std::lock_guard lock(mu);
    auth_seen_by_other.push_back(r.headers.get("Authorization").value_or("<none>"));
    return text_response(200, "blob from other host " + r.target);
  });
  std::vector<std::string> auth_seen_by_first;
  auto first = start_server([&](const Request& r) {
    {
      std::lock_guard lock(mu);
      auth_seen_by_first.push_back(r.headers.get("Authorization").value_or("<none>"));
    }
    Response resp;
    if (r.path() == "/start") {
      resp.status = 302;
      resp.headers.set("Location", "next/step");
    } else if (r.path() == "/next/step") {
      resp.status = 307;
      resp.headers.set("Location", other->url() + "/final?sig=abc");
    }
    return resp;
  });
  Client client;
  ClientRequest req{.url = first->url() + "/start"};
  req.headers.set("Authorization", "Bearer secret");
  auto resp = client.send(req);
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "blob from other host /final?sig=abc");
  EXPECT_EQ(resp->final_url, other->url() + "/final?sig=abc");
  EXPECT_EQ(auth_seen_by_first, (std::vector<std::string>{"Bearer secret", "Bearer secret"}));
  EXPECT_EQ(auth_seen_by_other, (std::vector<std::string>{"<none>"}));
}

TEST(HttpClientServerTest, RedirectLoopsStop) {
  auto server = start_server([](const Request&) {
    Response resp;
    resp.status = 301;
    resp.headers.set("Location", "/again");
    return resp;
  });
  Client client({.max_redirects = 3});
  auto resp = client.send({.url = server->url() + "/"});
  ASSERT_FALSE(resp.ok());
  EXPECT_NE(resp.error().message().find("more than 3 redirects"), std::string::npos);
}

TEST(HttpClientServerTest, CollectedBodyOverTheCapIsRefused) {
  auto server = start_server([](const Request&) { return text_response(200, big_text(100000)); });
  Client client;
  auto resp = client.send({.url = server->url() + "/"}, 1000);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(resp.error().message().find("exceeds 1000 bytes"), std::string::npos);
}

TEST(HttpClientServerTest, ServerEnforcesHeaderAndBodyLimits) {
  auto server = start_server([](const Request&) { return text_response(200, "ok"); },
                             {.max_header_bytes = 1024, .max_body_bytes = 100});
  Client client;
  ClientRequest big_body{.method = "PUT", .url = server->url() + "/", .body = big_text(101)};
  auto r1 = client.send(big_body);
  ASSERT_TRUE(r1.ok()) << r1.error().message();
  EXPECT_EQ(r1->status, 413);
  ClientRequest big_header{.url = server->url() + "/"};
  big_header.headers.set("X-Big", big_text(2000));
  auto r2 = client.send(big_header);
  ASSERT_TRUE(r2.ok()) << r2.error().message();
  EXPECT_EQ(r2->status, 431);
  ClientRequest fits{.method = "PUT", .url = server->url() + "/", .body = big_text(100)};
  auto r3 = client.send(fits);
  ASSERT_TRUE(r3.ok()) << r3.error().message();
  EXPECT_EQ(r3->status, 200);
}

// Sends `bytes` on one new connection to 127.0.0.1:port and reads until the server closes it.
std::string raw_exchange(uint16_t port, const std::string& bytes) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_GE(fd.get(), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(fd.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;) in.append(buf, n);
  return in;
}

// Large request bodies are read through a larger buffer than headers; requests pipelined behind
// them on the same connection (already in the buffer) and chunked bodies must come through whole.
TEST(HttpClientServerTest, LargeAndChunkedBodiesPipelinedOnOneConnectionArriveWhole) {
  auto server = start_server([](const Request& r) {
    return text_response(200, r.method + " " + r.target + " " + std::to_string(r.body.size()) +
                                  " " + sha256_hex(r.body) + "\n");
  });
  std::string big = big_text(300 * 1024 + 7);
  std::string part1 = big_text(70 * 1024), part2 = big_text(5);
  char size1[32], size2[32];
  std::snprintf(size1, sizeof size1, "%zx", part1.size());
  std::snprintf(size2, sizeof size2, "%zx", part2.size());
  std::string wire =
      "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
      "\r\n\r\n" + big + "GET /small HTTP/1.1\r\nHost: x\r\n\r\n" +
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size1 +
      "\r\n" + part1 + "\r\n" + size2 + "\r\n" + part2 + "\r\n0\r\n\r\n" +
      "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string answers = raw_exchange(server->port(), wire);
  auto expect = [&](const std::string& line) {
    EXPECT_NE(answers.find(line), std::string::npos) << line << "\nin:\n" << answers;
  };
  expect("POST /big " + std::to_string(big.size()) + " " + sha256_hex(big) + "\n");
  expect("GET /small 0 " + sha256_hex("") + "\n");
  expect("POST /chunked " + std::to_string(part1.size() + part2.size()) + " " +
         sha256_hex(part1 + part2) + "\n");
  expect("GET /last 0 ");
  EXPECT_LT(answers.find("/big "), answers.find("/small "));
  EXPECT_LT(answers.find("/chunked "), answers.find("/last "));
}

TEST(HttpClientServerTest, RequestBodyStreamsFromAFile) {
  testing::TempDir dir;
  std::string content = big_text(2 << 20);
  std::ofstream(dir.file("body"), std::ios::binary) << content;
  auto server = start_server(
      [](const Request& r) {
        return text_response(200, std::to_string(r.body.size()) + " " + sha256_hex(r.body));
      },
      {.max_body_bytes = 4 << 20});
  Client client;
  auto resp =
      client.send({.method = "PUT", .url = server->url() + "/", .body_file = dir.file("body")});
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->body, std::to_string(content.size()) + " " + sha256_hex(content));

  auto missing =
      client.send({.method = "PUT", .url = server->url() + "/", .body_file = dir.file("missing")});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("open request body '" + dir.file("missing") + "'"),
            std::string::npos);
}

TEST(HttpClientServerTest, HeadGetsHeadersWithoutBody) {
  auto server = start_server([](const Request&) {
    Response resp = text_response(200, std::string(12345, 'z'));
    resp.headers.set("Docker-Content-Digest", "sha256:abc");
    return resp;
  });
  Client client;
  auto resp = client.send({.method = "HEAD", .url = server->url() + "/m"});
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->headers.get("content-length"), "12345");
  EXPECT_EQ(resp->headers.get("docker-content-digest"), "sha256:abc");
  EXPECT_TRUE(resp->body.empty());
  // The connection stays usable after a HEAD.
  auto get = client.send({.url = server->url() + "/m"});
  ASSERT_TRUE(get.ok()) << get.error().message();
  EXPECT_EQ(get->body.size(), 12345u);
}

TEST(HttpClientServerTest, KeepAliveReusesOneConnectionPerHost) {
  std::mutex mu;
  std::set<std::string> peers;
  auto server = start_server([&](const Request& r) {
    std::lock_guard lock(mu);
    peers.insert(r.remote_address);
    return text_response(200, "ok");
  });
  Client client;
  for (int i = 0; i < 5; ++i) {
    auto resp = client.send({.url = server->url() + "/" + std::to_string(i)});
    ASSERT_TRUE(resp.ok()) << resp.error().message();
  }
  EXPECT_EQ(peers.size(), 1u);
  client.close_connections();
  ASSERT_TRUE(client.send({.url = server->url() + "/again"}).ok());
  EXPECT_EQ(peers.size(), 2u);
}

TEST(HttpClientServerTest, ConnectionCloseIsHonouredAndStaleConnectionsAreReplaced) {
  auto handler = [](const Request&) { return text_response(200, "ok"); };
  auto server = start_server(handler);
  uint16_t port = server->port();
  Client client;
  ASSERT_TRUE(client.send({.url = server->url() + "/"}).ok());
  // The server goes away, closing the kept-alive connection; a new one takes the same port.
  server->stop();
  server.reset();
  auto again = start_server(handler, {.port = port});
  auto resp = client.send({.url = again->url() + "/"});
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->body, "ok");
}

TEST(HttpClientServerTest, ReadTimeoutFailsWithDeadlineExceeded) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  auto server = start_server([&](const Request&) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });  // answers only after the client gave up
    return text_response(200, "late");
  });
  Client client({.io_timeout = std::chrono::milliseconds(100)});
  auto resp = client.send({.url = server->url() + "/slow"});
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(resp.error().message(), "read response from '" + server->url() + "/slow': timed out");
}

TEST(HttpClientServerTest, RefusedConnectionIsUnavailableAndNamesTheUrl) {
  uint16_t port;
  {
    auto server = start_server([](const Request&) { return Response{}; });
    port = server->port();
  }
  Client client;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v2/";
  auto resp = client.send({.url = url});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(resp.error().message(), "connect to '" + url + "': connection refused");
}

TEST(HttpClientServerTest, HandlerExceptionBecomes500) {
  auto server = start_server([](const Request&) -> Response { throw std::runtime_error("boom"); });
  Client client;
  auto resp = client.send({.url = server->url() + "/"});
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->status, 500);
}

TEST(HttpClientServerTest, StopIsGracefulForInFlightRequests) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_handler = false;
  bool release = false;
  auto server = start_server([&](const Request&) {
    std::unique_lock lock(mu);
    in_handler = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return text_response(200, "finished");
  });
  Result<ClientResponse> result = Error(ErrorCode::kInternal, "not run");
  std::thread requester([&] {
    Client client;
    result = client.send({.url = server->url() + "/"});
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_handler; });
  }
  server->begin_stop();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  server->stop();
  requester.join();
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->body, "finished");
  EXPECT_EQ(result->headers.get("connection"), "close");
}

TEST(HttpServerTest, BindingAPortInUseNamesTheAddress) {
  auto first = start_server([](const Request&) { return Response{}; });
  auto second = Server::start({.port = first->port()}, [](const Request&) { return Response{}; });
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("listen on '127.0.0.1:" + std::to_string(first->port())),
            std::string::npos);
}

TEST(HttpClientServerTest, DeferredAnswerComesFromAnotherThreadWhileOtherRequestsAreServed) {
  // One server thread: the held request must not block the second request (long-poll design).
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> held;
  ServerOptions options;
  options.threads = 1;
  auto server = Server::start_async(options, [&](Request request, Responder respond) {
    if (request.path() == "/wait") {
      std::lock_guard lock(mu);
      held = respond;
      cv.notify_all();
      return;
    }
    respond.send(text_response(200, "quick"));
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  std::string waited;
  std::thread waiter([&] {
    Client client;
    auto resp = client.send({.url = (*server)->url() + "/wait"});
    waited = resp.ok() ? std::to_string(resp->status) + " " + resp->body : resp.error().message();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return held.has_value(); });
  }
  Client client;
  auto quick = client.send({.url = (*server)->url() + "/quick"});
  ASSERT_TRUE(quick.ok()) << quick.error().message();
  EXPECT_EQ(quick->body, "quick");
  std::thread([r = *held] { r.send(text_response(200, "late")); r.send(text_response(500, "no")); })
      .join();
  waiter.join();
  EXPECT_EQ(waited, "200 late");
  held.reset();
}

// Out of fds, the server cannot accept; the connections wait in the backlog and are served once
// others close (the accept loop backs off and goes on, it neither stops nor gives up).
TEST(HttpClientServerTest, ConnectionsWaitingWhileOutOfFdsAreServedOnceFdsFree) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Responder> held;
  auto server = Server::start_async({}, [&](Request, Responder respond) {
    std::lock_guard lock(mu);
    if (held.size() < 2) {
      held.push_back(std::move(respond));
      cv.notify_all();
      return;
    }
    respond.send(text_response(200, "served\n"));
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  uint16_t port = (*server)->port();

  // Ten connections, connected (the kernel completes them in the backlog) before the limit.
  std::vector<UniqueFd> clients;
  int highest = 0;
  for (int i = 0; i < 10; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_GE(fd.get(), 0);
    timeval guard{60, 0};  // only against a hang; no timing is measured
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string req = "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(req.size()));
    highest = std::max(highest, fd.get());
    clients.push_back(std::move(fd));
  }
  // Room for two more fds in this process: the server takes two connections, then fails.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 1 + 2);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return held.size() == 2; });
    for (auto& r : held) r.send(text_response(200, "held\n"));
  }
  // Each answered client closes, which frees one of the server's fds for the next connection.
  int served = 0, was_held = 0;
  for (auto& fd : clients) {
    std::string in;
    char buf[4096];
    auto whole = [&] {
      auto head_end = in.find("\r\n\r\n");
      return head_end != std::string::npos && in.find('\n', head_end + 4) != std::string::npos;
    };
    while (!whole()) {
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    if (in.find("\r\n\r\nserved\n") != std::string::npos) ++served;
    if (in.find("\r\n\r\nheld\n") != std::string::npos) ++was_held;
    fd = UniqueFd();
  }
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(was_held, 2);
  EXPECT_EQ(served, 8);
  std::lock_guard lock(mu);
  held.clear();
}

TEST(HttpClientServerTest, DroppedResponderAnswers500) {
  auto server = Server::start_async({}, [](Request, Responder) {});
  ASSERT_TRUE(server.ok()) << server.error().message();
  Client client;
  auto resp = client.send({.url = (*server)->url() + "/x"});
  ASSERT_TRUE(resp.ok()) << resp.error().message();
  EXPECT_EQ(resp->status, 500);
}

}  // namespace
}  // namespace gantry::http
