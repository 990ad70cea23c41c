#include "agent/job_script.h"

namespace gantry::agent {

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string echo_line(std::string_view command) {
  // GitLab trims the command before echoing it; a trailing newline from a YAML block scalar
  // (`- |`) does not make a command multi-line.
  while (!command.empty() && (command.back() == '\n' || command.back() == ' ')) {
    command.remove_suffix(1);
  }
  size_t nl = command.find('\n');
  if (nl == std::string_view::npos) return "$ " + std::string(command);
  return "$ " + std::string(command.substr(0, nl)) + " # collapsed multi-line command";
}

std::string render_script(const std::vector<std::string>& commands, std::string_view project_dir) {
  std::string s;
  s +=
      "# Written by gantry: each command is echoed, then run; the first failure ends the script.\n";
  s += "if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi\n";
  s += "set -e\n";
  s += "cd " + shell_quote(project_dir) + "\n";
  for (const auto& cmd : commands) {
    s += "printf '%s\\n' " +
         shell_quote(std::string(kAnsiBoldGreen) + echo_line(cmd) + std::string(kAnsiReset)) + "\n";
    s += cmd;
    if (cmd.empty() || cmd.back() != '\n') s += "\n";
  }
  return s;
}

std::vector<std::string> shell_command(std::string_view script_path) {
  // The same probe order as GitLab's runner.
  return {"/bin/sh", "-c",
          "for s in /usr/local/bin/bash /usr/bin/bash /bin/bash; do "
          "if [ -x \"$s\" ]; then exec \"$s\" \"$0\"; fi; done; exec /bin/sh \"$0\"",
          std::string(script_path)};
}

}  // namespace gantry::agent
