#include "tests/support/temp_dir.h"

#include <cstdlib>
#include <stdexcept>

#include "common/file.h"

namespace gantry::testing {

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() { (void)remove_all(path_); }

}  // namespace gantry::testing
