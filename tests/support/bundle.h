// Test bundles: an OCI bundle (config.json + rootfs) made from the static busybox of Debian's
// busybox-static package plus Gantry's test payload (/payload), in a TempDir. The config is
// the shape `runc spec` writes (namespaces, default mounts, masked and read-only paths,
// Docker's default capabilities) so a test edits only what it is about.
// Used by the runtime integration tests and benchmarks. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "tests/support/temp_dir.h"

namespace gantry::testing {

// The config.json `runc spec` would write, with process.args = args and terminal false.
Json default_bundle_config(const std::vector<std::string>& args);

class TestBundle {
 public:
  // Builds rootfs/ (busybox with its applet links in /bin, /payload, /etc/passwd and /etc/group
  // with root and nobody, empty /proc /sys /dev /tmp /mnt) and config.json running `args`.
  explicit TestBundle(const std::vector<std::string>& args = {"/bin/true"});

  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_.file("rootfs"); }
  std::string config_path() const { return dir_.file("config.json"); }

  Json& config() { return config_; }
  // Writes config() to config.json.
  void save() const;

 private:
  TempDir dir_;
  Json config_;
};

// Whether busybox-static is installed (tests skip with this reason otherwise).
bool have_static_busybox();
constexpr const char* kStaticBusybox = "/bin/busybox";

}  // namespace gantry::testing
