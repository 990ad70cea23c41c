// `gantry image pull REF`: pulls an image from its registry into the store under --root.
// On a terminal, one progress line per layer, redrawn in place; otherwise plain lines as each
// layer starts and finishes (logs and CI output stay readable).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/image_cmd.h"
#include "runtime/image/auth.h"
#include "runtime/image/puller.h"

namespace gantry::cli {

namespace image = runtime::image;

namespace {

std::string short_id(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(7, 12) : digest;
}

std::string mb(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fMB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// Renders pull events: redrawn lines on a terminal, plain lines otherwise.
class ProgressView {
 public:
  explicit ProgressView(bool tty) : tty_(tty) {}

  void on_event(const image::PullEvent& e) {
    using K = image::PullEvent::Kind;
    switch (e.kind) {
      case K::kResolved:
        std::printf("resolved manifest %s\n", e.text.c_str());
        break;
      case K::kLayerQueued:
        set(e.digest, "waiting", e.total);
        break;
      case K::kLayerPresent:
        set(e.digest, "already present", e.total);
        break;
      case K::kLayerBytes: {
        auto& row = rows_[index_of(e.digest)];
        row.done = e.done;
        row.total = e.total;
        row.state = "downloading";
        if (tty_) {
          auto now = std::chrono::steady_clock::now();
          if (now - last_draw_ < std::chrono::milliseconds(100)) return;
          last_draw_ = now;
          redraw();
        } else if (!row.announced) {
          row.announced = true;
          std::printf("%s: downloading %s\n", short_id(e.digest).c_str(), mb(e.total).c_str());
        }
        return;
      }
      case K::kLayerDone:
        set(e.digest, "downloaded", e.total);
        break;
      case K::kUnpacking:
        if (!tty_) std::printf("unpacking layers\n");
        break;
    }
    if (tty_) redraw();
    std::fflush(stdout);
  }

 private:
  struct Row {
    std::string digest;
    std::string state;
    int64_t done = 0;
    int64_t total = 0;
    bool announced = false;
  };

  size_t index_of(const std::string& digest) {
    auto it = index_.find(digest);
    if (it != index_.end()) return it->second;
    rows_.push_back({digest, "", 0, 0, false});
    index_[digest] = rows_.size() - 1;
    return rows_.size() - 1;
  }

  void set(const std::string& digest, const std::string& state, int64_t total) {
    auto& row = rows_[index_of(digest)];
    row.state = state;
    row.total = total;
    if (state == "downloaded") row.done = total;
    if (!tty_) std::printf("%s: %s\n", short_id(digest).c_str(), state.c_str());
  }

  void redraw() {
    if (drawn_ > 0) std::printf("\x1b[%zuA", drawn_);
    for (const auto& row : rows_) {
      std::string line = short_id(row.digest) + ": " + row.state;
      if (row.state == "downloading" && row.total > 0) {
        int width = 30;
        int filled = static_cast<int>(width * row.done / row.total);
        line += " [" + std::string(filled, '=') + std::string(width - filled, ' ') + "] " +
                mb(row.done) + "/" + mb(row.total);
      } else if (row.total > 0) {
        line += " " + mb(row.total);
      }
      std::printf("\x1b[2K%s\n", line.c_str());
    }
    drawn_ = rows_.size();
    std::fflush(stdout);
  }

  bool tty_;
  std::vector<Row> rows_;
  std::map<std::string, size_t> index_;
  size_t drawn_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace

void setup_image_pull_command(CLI::App& command, CommandContext& ctx) {
  struct Args {
    std::string ref, platform, ca, username;
    bool insecure = false;
    bool password_stdin = false;
    bool quiet = false;
    int parallel = 3;
  };
  auto a = std::make_shared<Args>();
  command.add_option("REF", a->ref, "Image reference, e.g. 'alpine:3.19' or 'localhost:5000/app'")
      ->required();
  command.add_option("--platform", a->platform, "os/arch[/variant] to pull (default: this host)");
  command.add_flag("--insecure", a->insecure,
                   "Allow plain http and unverified https for this registry");
  command.add_option("--ca", a->ca, "Extra CA certificate (PEM) to trust for the registry");
  command.add_option("--username", a->username, "Registry user (with --password-stdin)");
  command.add_flag("--password-stdin", a->password_stdin, "Read the registry password from stdin");
  command.add_flag("-q,--quiet", a->quiet, "Print only the image digest");
  command.add_option("--parallel", a->parallel, "Layers downloaded at once")->capture_default_str();
  command.callback([&ctx, a] {
    Status st = [&]() -> Status {
      GANTRY_ASSIGN_OR_RETURN(image::Reference ref, image::parse_reference(a->ref));
      image::PullOptions options;
      GANTRY_ASSIGN_OR_RETURN(options.platform, platform_option(a->platform));
      options.registry.insecure = a->insecure;
      options.registry.ca_file = a->ca;
      options.parallel_downloads = a->parallel;
      if (a->password_stdin && a->username.empty()) {
        return Error(ErrorCode::kInvalidArgument, "--password-stdin needs --username");
      }
      if (!a->username.empty()) {
        if (!a->password_stdin) {
          return Error(ErrorCode::kInvalidArgument,
                       "--username needs --password-stdin (passwords never go on the command "
                       "line)");
        }
        std::string password;
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
        options.registry.credentials = image::Credentials{a->username, password};
      } else {
        GANTRY_ASSIGN_OR_RETURN(
            options.registry.credentials,
            image::load_docker_credentials(image::default_docker_config_path(), ref.domain));
      }
      auto view = std::make_shared<ProgressView>(::isatty(STDOUT_FILENO) == 1);
      if (!a->quiet) options.progress = [view](const image::PullEvent& e) { view->on_event(e); };
      GANTRY_ASSIGN_OR_RETURN(auto store, open_image_store(ctx));
      image::Puller puller(store);
      GANTRY_ASSIGN_OR_RETURN(image::PullResult result, puller.pull(ref, options));
      if (a->quiet) {
        std::printf("%s\n", result.record.digest.c_str());
      } else {
        std::printf("digest: %s\npulled %s (%s)\n", result.record.digest.c_str(),
                    result.record.name.c_str(), result.record.platform.c_str());
      }
      return ok_status();
    }();
    ctx.exit_code = st.ok() ? 0 : report_error(st.error());
  });
}

}  // namespace gantry::cli
