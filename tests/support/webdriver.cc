#include "tests/support/webdriver.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <regex>

#include "common/base64.h"
#include "common/file.h"

namespace gantry::testing {

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kChromedriver = "/usr/bin/chromedriver";
constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

// Reads the driver's stdout until it says which port it took (it was started with --port=0).
Result<int> read_port(int fd, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  std::regex started("started successfully on port ([0-9]+)");
  for (;;) {
    std::smatch m;
    if (std::regex_search(out, m, started)) return std::stoi(m[1]);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error(ErrorCode::kDeadlineExceeded, "chromedriver did not start: '" + out + "'");
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("poll chromedriver output");
    if (n == 0) continue;
    char buf[4096];
    ssize_t got = ::read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Error(ErrorCode::kUnavailable, "chromedriver exited: '" + out + "'");
    out.append(buf, static_cast<size_t>(got));
  }
}

Status no_value(Result<Json> r) {
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

}  // namespace

std::optional<std::string> Browser::missing_requirement() {
  for (const char* p : {kChromium, kChromedriver}) {
    if (::access(p, X_OK) != 0) {
      return std::string(p) + " is missing (apt-get install chromium chromium-driver)";
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<Browser>> Browser::start(const std::string& profile_dir) {
  std::unique_ptr<Browser> b(new Browser());
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ChildStdio stdio;
  stdio.stdout_fd = write_end.get();
  GANTRY_ASSIGN_OR_RETURN(auto child, ChildProcess::spawn({kChromedriver, "--port=0"}, stdio));
  b->driver_.emplace(std::move(child));
  write_end.reset();
  GANTRY_ASSIGN_OR_RETURN(int port, read_port(read_end.get(), std::chrono::seconds(30)));
  b->base_ = "http://127.0.0.1:" + std::to_string(port);
  http::ClientOptions co;
  co.io_timeout = std::chrono::seconds(120);
  b->client_ = std::make_unique<http::Client>(co);

  Json caps = {{"capabilities",
                {{"alwaysMatch",
                  {{"browserName", "chrome"},
                   {"goog:chromeOptions",
                    {{"binary", kChromium},
                     {"args", Json::array({"--headless=new", "--no-sandbox", "--disable-gpu",
                                           "--disable-dev-shm-usage", "--no-first-run",
                                           "--window-size=1280,900",
                                           "--user-data-dir=" + profile_dir})}}}}}}}};
  GANTRY_ASSIGN_OR_RETURN(Json session, b->command("POST", "/session", caps));
  if (!session.is_object() || !session.contains("sessionId")) {
    return Error(ErrorCode::kIo, "webdriver: new session: no sessionId in " + session.dump());
  }
  b->session_ = "/session/" + session.at("sessionId").get<std::string>();
  return b;
}

Browser::~Browser() {
  if (!session_.empty() && client_) (void)command("DELETE", session_);
  if (driver_) {
    (void)driver_->signal(SIGTERM);
    driver_->reap();
  }
}

Result<Json> Browser::command(const std::string& method, const std::string& path,
                              const Json& body) {
  http::ClientRequest req;
  req.method = method;
  req.url = base_ + path;
  if (!body.is_null()) {
    req.body = body.dump();
    req.headers.set("Content-Type", "application/json");
  }
  auto r = client_->send(req, 64 << 20);
  if (!r.ok()) return std::move(r).error().with_context("webdriver " + method + " " + path);
  auto j = parse_json(r->body, "webdriver " + path);
  if (!j.ok()) return std::move(j).error();
  Json value = j->is_object() && j->contains("value") ? j->at("value") : Json();
  if (r->status != 200) {
    std::string message = value.is_object() ? value.value("error", "") + ": " +
                                                  value.value("message", "").substr(0, 600)
                                            : r->body.substr(0, 600);
    return Error(
        r->status == 500 && value.is_object() && value.value("error", "") == "script timeout"
            ? ErrorCode::kDeadlineExceeded
            : ErrorCode::kIo,
        "webdriver " + method + " " + path + ": " + message);
  }
  return value;
}

Status Browser::navigate(const std::string& url) {
  GANTRY_TRY(no_value(command("POST", session_ + "/url", Json{{"url", url}})));
  return ok_status();
}

Result<Json> Browser::execute(const std::string& script, const Json& args) {
  return command("POST", session_ + "/execute/sync", Json{{"script", script}, {"args", args}});
}

Result<std::string> Browser::element(const std::string& selector) {
  GANTRY_ASSIGN_OR_RETURN(Json e, command("POST", session_ + "/element",
                                          Json{{"using", "css selector"}, {"value", selector}}));
  if (!e.is_object() || !e.contains(kElementKey)) {
    return Error(ErrorCode::kNotFound, "element '" + selector + "' not found");
  }
  return e.at(kElementKey).get<std::string>();
}

Status Browser::type(const std::string& selector, const std::string& text) {
  GANTRY_ASSIGN_OR_RETURN(std::string id, element(selector));
  GANTRY_TRY(
      no_value(command("POST", session_ + "/element/" + id + "/value", Json{{"text", text}})));
  return ok_status();
}

Status Browser::click(const std::string& selector) {
  GANTRY_ASSIGN_OR_RETURN(std::string id, element(selector));
  GANTRY_TRY(no_value(command("POST", session_ + "/element/" + id + "/click", Json::object())));
  return ok_status();
}

Status Browser::wait_for(const std::string& condition, std::chrono::milliseconds timeout,
                         const std::string& describe) {
  GANTRY_TRY(no_value(command("POST", session_ + "/timeouts", Json{{"script", timeout.count()}})));
  // Resolves as soon as the condition holds: now, or after any change to the document.
  std::string script =
      "const done = arguments[arguments.length - 1];\n"
      "const check = () => { try { return !!(" +
      condition +
      "); } catch (e) { return false; } };\n"
      "if (check()) { done(true); return; }\n"
      "const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); done(true); } "
      "});\n"
      "obs.observe(document, {subtree: true, childList: true, characterData: true, attributes: "
      "true});\n";
  auto r = command("POST", session_ + "/execute/async",
                   Json{{"script", script}, {"args", Json::array()}});
  if (r.ok()) return ok_status();
  std::string state;
  if (auto d = execute("return String(" + describe + ");"); d.ok() && d->is_string()) {
    state = d->get<std::string>();
  }
  return Error(r.error().code(), "waiting for `" + condition + "`: " + r.error().message() +
                                     "\npage: " + state);
}

Status Browser::screenshot(const std::string& path) {
  GANTRY_ASSIGN_OR_RETURN(Json png, command("GET", session_ + "/screenshot"));
  if (!png.is_string()) return Error(ErrorCode::kIo, "webdriver screenshot: not a string");
  GANTRY_ASSIGN_OR_RETURN(std::string bytes, base64_decode(png.get<std::string>()));
  return write_file(path, bytes);
}

}  // namespace gantry::testing
