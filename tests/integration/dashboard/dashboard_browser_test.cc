// The dashboard in a real browser: headless Chromium driven through chromedriver (W3C
// WebDriver) against a controller on 127.0.0.1. A fake agent leases a job and appends its log
// chunk by chunk; the test waits (event-driven, bounded) for each chunk to show in the job
// page's live log viewer before sending the next, so the viewer is seen following the stream.
// Skips when Debian's chromium / chromium-driver are not installed. On failure a screenshot is
// written into the test's TempDir (and copied to $GANTRY_TEST_SCREENSHOTS when set).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "common/file.h"
#include "tests/support/controller_harness.h"
#include "tests/support/webdriver.h"

namespace gantry::controller {
namespace {

using namespace std::chrono_literals;
using testing::Browser;

constexpr auto kWait = 60s;  // generous: a loaded CI machine renders 3 MB slowly

const char* kPipelineFile = R"(stages: [build, test]
build:
  stage: build
  script: [make]
unit:
  stage: test
  script: [make test]
)";

class DashboardBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = Browser::missing_requirement()) GTEST_SKIP() << *missing;
    ASSERT_TRUE(h_.start());
    std::string repo = h_.dir().file("demo");
    testing::make_git_repo(repo, {{".gantry-ci.yml", kPipelineFile}});
    ASSERT_EQ(
        h_.admin("POST", "/api/v1/projects", Json{{"name", "demo"}, {"repo_url", repo}}).status,
        201);
    ASSERT_TRUE(make_dirs(h_.dir().file("profile")).ok());
    auto b = Browser::start(h_.dir().file("profile"));
    ASSERT_TRUE(b.ok()) << b.error().message();
    browser_ = std::move(*b);
  }

  void TearDown() override {
    if (browser_ && HasFailure()) {
      std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      std::string path = h_.dir().file(name + ".png");
      if (browser_->screenshot(path).ok()) {
        std::printf("screenshot: %s\n", path.c_str());
        if (const char* keep = std::getenv("GANTRY_TEST_SCREENSHOTS")) {
          auto png = read_file(path);
          if (png.ok()) (void)write_file(join_path(keep, name + ".png"), *png);
        }
      }
    }
    browser_.reset();
  }

  // Opens the dashboard and signs in with the admin token.
  void sign_in() {
    ASSERT_TRUE(browser_->navigate(h_.url() + "/").ok());
    ASSERT_TRUE(browser_->wait_for("document.querySelector('#token')", kWait).ok());
    ASSERT_TRUE(browser_->type("#token", h_.admin_token()).ok());
    ASSERT_TRUE(browser_->click("#signin").ok());
    Status st = browser_->wait_for("document.querySelector('#pipelines')", kWait);
    ASSERT_TRUE(st.ok()) << st.error().message();
  }

  // With $GANTRY_TEST_SCREENSHOTS set, a picture of the page as it is now, to look at.
  void snapshot(const std::string& name) {
    if (const char* keep = std::getenv("GANTRY_TEST_SCREENSHOTS")) {
      Status st = browser_->screenshot(join_path(keep, name + ".png"));
      EXPECT_TRUE(st.ok()) << st.error().message();
    }
  }

  void expect(const std::string& condition) {
    Status st = browser_->wait_for(condition, kWait);
    EXPECT_TRUE(st.ok()) << st.error().message();
  }

  Json js(const std::string& script) {
    auto r = browser_->execute(script);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : Json();
  }

  testing::ControllerHarness h_;
  std::unique_ptr<Browser> browser_;
};

TEST_F(DashboardBrowserTest, AWrongTokenShowsAnErrorAndTheRightOneSignsIn) {
  ASSERT_TRUE(browser_->navigate(h_.url() + "/").ok());
  ASSERT_TRUE(browser_->wait_for("document.querySelector('#token')", kWait).ok());
  ASSERT_TRUE(browser_->type("#token", "gantry-admin-wrong").ok());
  ASSERT_TRUE(browser_->click("#signin").ok());
  expect("document.querySelector('#login-error').textContent.includes('refused')");
  EXPECT_TRUE(js("return sessionStorage.getItem('gantry.token');").is_null());
  js("document.querySelector('#token').value = '';");
  ASSERT_TRUE(browser_->type("#token", h_.admin_token()).ok());
  ASSERT_TRUE(browser_->click("#signin").ok());
  expect("document.querySelector('#pipelines')");
  EXPECT_EQ(js("return sessionStorage.getItem('gantry.token');"), h_.admin_token());
  ASSERT_TRUE(browser_->navigate(h_.url() + "/#/projects").ok());
  expect("document.querySelector('#projects') && "
         "document.querySelector('#projects').textContent.includes('demo')");
}

TEST_F(DashboardBrowserTest, TheLogRendererColoursEscapesAndFoldsSections) {
  ASSERT_TRUE(browser_->navigate(h_.url() + "/").ok());
  ASSERT_TRUE(browser_->wait_for("window.GantryAnsi", kWait).ok());
  Json lines = js(
      "return GantryAnsi.renderAll("
      "'a \\x1b[31mred\\x1b[0m b\\n"
      "\\x1b[1;94mbold bright blue\\x1b[22m still blue\\x1b[39m plain\\n"
      "<img src=x onerror=alert(1)> & \"q\"\\n"
      "10%\\r50%\\r100%\\n"
      "\\x1b[32mgreen across\\nlines\\x1b[0m\\n"
      "\\x1b[0Ksection_start:1700000000:build[collapsed=true]\\r\\x1b[0KBuilding\\n"
      "\\x1b[0Ksection_end:1700000004:build\\r\\x1b[0K\\n');");
  ASSERT_TRUE(lines.is_array()) << lines.dump();
  ASSERT_EQ(lines.size(), 7u) << lines.dump();
  EXPECT_EQ(lines[0], "a <span class=\"fg-1\">red</span> b");
  EXPECT_EQ(lines[1], "<span class=\"fg-12 b\">bold bright blue</span>"
                      "<span class=\"fg-12\"> still blue</span> plain");
  EXPECT_EQ(lines[2], "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(lines[3], "100%");
  EXPECT_EQ(lines[4], "<span class=\"fg-2\">green across</span>");
  EXPECT_EQ(lines[5], "<span class=\"fg-2\">lines</span>");
  EXPECT_EQ(lines[6], "Building");
}

TEST_F(DashboardBrowserTest, TheJobPageFollowsTheLiveLogToTheFinalStatus) {
  Json pipeline = h_.admin("POST", "/api/v1/pipelines", Json{{"project", "demo"}}).body;
  int64_t pipeline_id = pipeline.value("id", int64_t{0});
  ASSERT_GT(pipeline_id, 0) << pipeline.dump();
  auto agent = h_.register_agent();
  auto lease = agent->poll(5);
  ASSERT_TRUE(lease.has_value());
  int64_t job = lease->at("job_id").get<int64_t>();
  int attempt = lease->at("attempt").get<int>();
  ASSERT_EQ(agent->heartbeat(job, attempt).status, 200);
  std::string log;
  auto append = [&](const std::string& chunk) {
    ASSERT_EQ(agent->append(job, attempt, log.size(), chunk).status, 200);
    log += chunk;
  };

  sign_in();
  expect("document.querySelector('#pipelines tr[data-pipeline=\"" + std::to_string(pipeline_id) +
         "\"]')");

  // The pipeline page: stages as columns, the running job with its cancel button.
  ASSERT_TRUE(browser_->navigate(h_.url() + "/#/pipelines/" + std::to_string(pipeline_id)).ok());
  expect("document.querySelectorAll('#stages .stage').length === 2");
  EXPECT_EQ(
      js("return [...document.querySelectorAll('#stages .stage')].map(s => s.dataset.stage);"),
      Json::array({"build", "test"}));
  expect("document.querySelector('.job[data-job=\"" + std::to_string(job) +
         "\"] .badge').dataset.status === 'running' && "
         "document.querySelector('.job[data-job=\"" + std::to_string(job) + "\"] button.cancel')");

  // The job page follows the log as the agent appends it.
  ASSERT_TRUE(browser_->navigate(h_.url() + "/#/jobs/" + std::to_string(job)).ok());
  expect("document.querySelector('#log-status').textContent.includes('Following')");
  append("$ make\nfirst line\n");
  expect("[...document.querySelectorAll('#log .line')].some(l => l.textContent === 'first line')");

  append("\x1b[31mred text\x1b[0m <b>not bold</b> & <script>bad()</script>\npartial");
  expect("document.querySelector('#log span.fg-1') && "
         "document.querySelector('#log span.fg-1').textContent === 'red text'");
  EXPECT_EQ(js("return document.querySelectorAll('#log b, #log script').length;"), 0);
  EXPECT_NE(js("return document.querySelector('#log').textContent;")
                .get<std::string>()
                .find("<b>not bold</b> & <script>bad()</script>"),
            std::string::npos);
  // The line still being written shows before its newline arrives.
  expect("document.querySelector('#log .pending') && "
         "document.querySelector('#log .pending').textContent === 'partial'");
  append("ly done\n");
  expect(
      "[...document.querySelectorAll('#log .line')].some(l => l.textContent === 'partially done')");

  // Several MB in one chunk: rendered in batches, the viewer stays at the bottom.
  // Long lines: the browser's cost is per line, and the point is the megabytes.
  std::string big;
  const std::string pad(500, '-');
  for (int i = 0; i < 6000; ++i) {
    big += "\x1b[32m" + std::to_string(i) + "\x1b[0m a line of build output " + pad + "\n";
  }
  big += "end of the big part\n";
  ASSERT_GT(big.size(), 3u << 20);
  append(big);
  expect("document.querySelector('#log').lastElementChild && "
         "document.querySelector('#log').lastElementChild.textContent === 'end of the big part'");
  expect("(() => { const l = document.querySelector('#log'); "
         "return l.scrollHeight - l.scrollTop - l.clientHeight < 8; })()");

  // Scrolled up, the viewer stops following (and offers to), while lines still arrive.
  js("document.querySelector('#log').scrollTop = 0;");
  expect("document.querySelector('#follow').classList.contains('show')");
  append("\x1b[0Ksection_start:1700000000:tests[collapsed=true]\r\x1b[0KRunning tests\n"
         "inside the section\n"
         "\x1b[0Ksection_end:1700000003:tests\r\x1b[0K\n"
         "after the section\n");
  expect(
      "[...document.querySelectorAll('#log .line')].some(l => l.textContent === 'after the "
      "section')");
  EXPECT_EQ(js("return document.querySelector('#log').scrollTop;"), 0);
  EXPECT_EQ(js("const s = document.querySelector('#log .sec[data-section=\"tests\"]');"
               "return s && s.classList.contains('collapsed') && "
               "s.querySelector('.sec-body').textContent === 'inside the section' && "
               "s.querySelector('.sec-time').textContent;"),
            "3s");

  // The job ends: the viewer shows how.
  ASSERT_EQ(agent->finish(job, attempt, log, schema::JobStatus::kSuccess, 0).status, 200);
  expect("document.querySelector('#log-status').dataset.final === 'success'");
  expect("document.querySelector('#job-status .badge').dataset.status === 'success'");
  EXPECT_EQ(js("return document.querySelectorAll('#log .line:not(.pending)').length;"),
            6000 + 8);
  snapshot("job-page");
}

TEST_F(DashboardBrowserTest, AFailedJobShowsItsReasonAndCanBeRetried) {
  Json pipeline = h_.admin("POST", "/api/v1/pipelines", Json{{"project", "demo"}}).body;
  int64_t pipeline_id = pipeline.value("id", int64_t{0});
  auto agent = h_.register_agent();
  auto lease = agent->poll(5);
  ASSERT_TRUE(lease.has_value());
  int64_t job = lease->at("job_id").get<int64_t>();
  int attempt = lease->at("attempt").get<int>();
  std::string log = "$ make\nmake: *** [all] Error 2\n";
  ASSERT_EQ(agent->append(job, attempt, 0, log).status, 200);
  ASSERT_EQ(agent->finish(job, attempt, log, schema::JobStatus::kFailed, 2).status, 200);

  sign_in();
  ASSERT_TRUE(browser_->navigate(h_.url() + "/#/pipelines/" + std::to_string(pipeline_id)).ok());
  std::string card = ".job[data-job=\"" + std::to_string(job) + "\"]";
  expect("document.querySelector('" + card + " .badge').dataset.status === 'failed' && "
         "document.querySelector('" + card + " .meta').textContent.includes('script_failure')");
  snapshot("pipeline-page");
  ASSERT_TRUE(browser_->click(card + " button.retry").ok());
  expect("document.querySelector('" + card + " .badge').dataset.status === 'pending'");
  EXPECT_EQ(h_.admin("GET", "/api/v1/jobs/" + std::to_string(job)).body.value("status", ""),
            "pending");
}

TEST_F(DashboardBrowserTest, TheLogRendererKeeps256AndTrueColours) {
  ASSERT_TRUE(browser_->navigate(h_.url() + "/").ok());
  ASSERT_TRUE(browser_->wait_for("window.GantryAnsi", kWait).ok());
  Json lines = js(
      "return GantryAnsi.renderAll("
      "'\\x1b[38;5;196mX\\x1b[48;2;1;2;3mY\\x1b[0m\\n"
      "\\x1b[38;5;3mpalette\\x1b[38;5;300mout of range\\x1b[38;2;1;2mshort\\x1b[0m\\n');");
  ASSERT_TRUE(lines.is_array()) << lines.dump();
  ASSERT_EQ(lines.size(), 2u) << lines.dump();
  EXPECT_EQ(lines[0], "<span class=\"fg-196\">X</span><span class=\"fg-196 bg-x010203\">Y</span>");
  EXPECT_EQ(lines[1], "<span class=\"fg-3\">palette</span><span class=\"fg-3\">out of range</span>"
                      "<span class=\"fg-3\">short</span>");
  EXPECT_EQ(js("return [GantryAnsi.classRule('fg-196'), GantryAnsi.classRule('bg-x010203'), "
               "GantryAnsi.classRule('fg-244'), GantryAnsi.classRule('fg-16'), "
               "GantryAnsi.classRule('fg-3'), GantryAnsi.classRule('b')];"),
            Json::array({"color: #ff0000;", "background: #010203;", "color: #808080;",
                         "color: #000000;", nullptr, nullptr}));
}

TEST_F(DashboardBrowserTest, AHugeLogShowsItsTailInColourAndTheWholeLogOnRequest) {
  Json pipeline = h_.admin("POST", "/api/v1/pipelines", Json{{"project", "demo"}}).body;
  ASSERT_GT(pipeline.value("id", int64_t{0}), 0) << pipeline.dump();
  auto agent = h_.register_agent();
  auto lease = agent->poll(5);
  ASSERT_TRUE(lease.has_value());
  int64_t job = lease->at("job_id").get<int64_t>();
  int attempt = lease->at("attempt").get<int>();
  std::string log;
  // Long lines: the browser's cost is per line, and the point is the megabytes.
  const std::string pad(540, '=');
  for (int i = 0; i < 10000; ++i) {
    log += "line " + std::to_string(i) + " of a long build log " + pad + "\n";
  }
  log += "\x1b[38;5;196mpalette red\x1b[0m \x1b[38;2;10;11;12mtruecolour\x1b[0m\nthe end\n";
  ASSERT_GT(log.size(), 5u << 20);
  for (size_t at = 0; at < log.size(); at += 1u << 20) {
    ASSERT_EQ(agent->append(job, attempt, at, log.substr(at, 1u << 20)).status, 200);
  }
  ASSERT_EQ(agent->finish(job, attempt, log, schema::JobStatus::kSuccess, 0).status, 200);

  sign_in();
  ASSERT_TRUE(browser_->navigate(h_.url() + "/#/jobs/" + std::to_string(job)).ok());
  expect("document.querySelector('#log-status').dataset.final === 'success'");
  // Only the last 4 MiB, from a whole line on, without line numbers.
  EXPECT_EQ(js("const n = document.querySelector('#log-notice');"
               "return !n.hidden && n.textContent.includes('showing its last 4.0 MiB');"),
            true);
  EXPECT_EQ(js("return document.querySelector('#log').classList.contains('partial');"), true);
  Json first = js("return document.querySelector('#log .line').textContent;");
  ASSERT_TRUE(first.is_string());
  EXPECT_TRUE(first.get<std::string>().starts_with("line ")) << first;
  EXPECT_TRUE(first.get<std::string>().ends_with(" of a long build log " + pad)) << first;
  EXPECT_NE(first, "line 0 of a long build log " + pad);
  EXPECT_EQ(js("return document.querySelector('#log').lastElementChild.textContent;"), "the end");
  // The colours beyond the 16 of the style sheet show, under the page's CSP.
  EXPECT_EQ(js("return getComputedStyle(document.querySelector('#log span.fg-196')).color;"),
            "rgb(255, 0, 0)");
  EXPECT_EQ(js("return getComputedStyle(document.querySelector('#log span.fg-x0a0b0c')).color;"),
            "rgb(10, 11, 12)");

  ASSERT_TRUE(browser_->click("#log-whole").ok());
  expect("document.querySelector('#log-status').dataset.final === 'success' && "
         "document.querySelector('#log-notice').hidden");
  EXPECT_EQ(js("return document.querySelector('#log .line').textContent;"),
            "line 0 of a long build log " + pad);
  EXPECT_EQ(js("return document.querySelectorAll('#log .line').length;"), 10000 + 2);
  EXPECT_EQ(js("return document.querySelector('#log').classList.contains('partial');"), false);
}

}  // namespace
}  // namespace gantry::controller
