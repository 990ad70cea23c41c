// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with everything in it when the
// object dies. One per test keeps tests independent of each other and of order.
#pragma once

#include <string>

namespace gantry::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "gantry-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace gantry::testing
