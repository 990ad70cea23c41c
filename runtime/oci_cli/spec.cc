// `gantry runtime spec`: writes the default config.json into a bundle, refusing to overwrite.
#include <fcntl.h>
#include <unistd.h>

#include "common/file.h"
#include "common/unique_fd.h"
#include "runtime/default_spec.h"
#include "runtime/oci_cli/commands.h"
#include "runtime/oci_config.h"

namespace gantry::runtime::oci_cli {

Status write_spec(const std::string& bundle, bool rootless) {
  const std::string path = join_path(bundle, "config.json");
  DefaultSpecOptions options;
  options.rootless = rootless;
  options.host_uid = ::getuid();
  options.host_gid = ::getgid();
  std::string text = to_oci_config(default_container_spec(options)).dump(2) + "\n";
  // O_EXCL: never clobber a config someone wrote, even if it appears between check and write.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    if (errno == EEXIST) {
      return Error(ErrorCode::kAlreadyExists, "spec: '" + path + "' exists already; not "
                                              "overwriting it");
    }
    return sys_error("spec: create '" + path + "'");
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::unlink(path.c_str());
      return sys_error("spec: write '" + path + "'", err);
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace gantry::runtime::oci_cli
