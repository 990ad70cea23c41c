// A W3C WebDriver client for browser tests: starts chromedriver (Debian's chromium-driver) on a
// free loopback port, opens a headless Chromium session with a profile in a given directory,
// and drives it over the WebDriver HTTP protocol with common/http's client: navigate, find,
// type, click, run scripts, wait for a DOM condition (event-driven in the page, bounded by a
// timeout: no polling sleeps), screenshots. One Browser per test; not thread-safe.
// The destructor ends the session (Chromium exits) and then chromedriver, by pid.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/child_process.h"
#include "common/http/client.h"
#include "common/json.h"
#include "common/result.h"

namespace gantry::testing {

class Browser {
 public:
  // Paths of Debian's packages; nullopt when either is missing (the test skips).
  static std::optional<std::string> missing_requirement();

  // Starts chromedriver and a session. `profile_dir` holds Chromium's profile (a TempDir).
  static Result<std::unique_ptr<Browser>> start(const std::string& profile_dir);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  Status navigate(const std::string& url);
  // Runs `script` (a function body; `arguments` holds `args`) and returns its value.
  Result<Json> execute(const std::string& script, const Json& args = Json::array());
  // Sets an element's value as typed keys, and clicks one (CSS selectors).
  Status type(const std::string& selector, const std::string& text);
  Status click(const std::string& selector);
  // Waits until `condition` (a JS expression) is truthy: checked at once and on every change of
  // the document, up to `timeout`. kDeadlineExceeded names the condition and what `describe`
  // (a JS expression) says about the page then.
  Status wait_for(const std::string& condition, std::chrono::milliseconds timeout,
                  const std::string& describe = "document.body.innerText.slice(-400)");
  // A PNG of the viewport written to `path`.
  Status screenshot(const std::string& path);

 private:
  Browser() = default;
  Result<Json> command(const std::string& method, const std::string& path,
                       const Json& body = nullptr);
  Result<std::string> element(const std::string& selector);

  std::optional<ChildProcess> driver_;
  std::string base_;     // http://127.0.0.1:PORT
  std::string session_;  // "/session/<id>"
  std::unique_ptr<http::Client> client_;
};

}  // namespace gantry::testing
