// ProcessImage: process.args/env/user of a ContainerSpec turned into what the child reads
// without allocating — NULL-terminated argv/envp arrays pointing into the Process's strings,
// the PATH to find argv[0] in, the supplementary gids — and copied into InitArgs. Built by
// the launcher and by exec in the parent before clone/fork. The Process must outlive it.
#pragma once

#include <sys/types.h>

#include <vector>

#include "runtime/container_spec.h"
#include "runtime/init.h"
#include "runtime/process_security.h"

namespace gantry::runtime {

struct ProcessImage {
  std::vector<char*> argv;  // NULL-terminated
  std::vector<char*> envp;  // NULL-terminated
  std::vector<gid_t> gids;
  const char* path_env = nullptr;  // PATH from env, else the default PATH
};

ProcessImage make_process_image(const Process& process);

// Fills the process part of `args` (argv, env, user, cwd, umask, terminal size, security).
void fill_process_args(const Process& process, const ProcessImage& image,
                       const ProcessSecurity& security, InitArgs& args);

}  // namespace gantry::runtime
