#include "runtime/process_image.h"

namespace gantry::runtime {

namespace {
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}  // namespace

ProcessImage make_process_image(const Process& process) {
  ProcessImage image;
  image.path_env = kDefaultPath;
  image.argv.reserve(process.args.size() + 1);
  for (const auto& a : process.args) image.argv.push_back(const_cast<char*>(a.c_str()));
  image.argv.push_back(nullptr);
  image.envp.reserve(process.env.size() + 1);
  for (const auto& e : process.env) {
    image.envp.push_back(const_cast<char*>(e.c_str()));
    if (e.rfind("PATH=", 0) == 0) image.path_env = e.c_str() + 5;
  }
  image.envp.push_back(nullptr);
  image.gids.assign(process.user.additional_gids.begin(), process.user.additional_gids.end());
  return image;
}

void fill_process_args(const Process& process, const ProcessImage& image,
                       const ProcessSecurity& security, InitArgs& args) {
  args.security = &security;
  args.terminal = process.terminal;
  if (process.console_size) {
    args.console_rows = static_cast<unsigned short>(process.console_size->height);
    args.console_cols = static_cast<unsigned short>(process.console_size->width);
  }
  args.argv = image.argv.data();
  args.envp = image.envp.data();
  args.path_env = image.path_env;
  args.cwd = process.cwd.c_str();
  args.uid = process.user.uid;
  args.gid = process.user.gid;
  args.additional_gids = image.gids.data();
  args.additional_gid_count = image.gids.size();
  args.umask = process.user.umask ? static_cast<mode_t>(*process.user.umask) : 022;
}

}  // namespace gantry::runtime
