// The shell scripts a job's container runs, as GitLab's runner writes them: every command of
// before_script + script (or of after_script) is echoed as `$ command` in bold green, then run,
// in ONE shell that stops at the first failing command (`set -e`, plus `set -o pipefail` where
// the shell has it). A multi-line command is echoed as its first line followed by
// " # collapsed multi-line command". The shell is bash when the image has it, else sh.
// PURE; used by the container job executor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gantry::agent {

inline constexpr std::string_view kAnsiBoldGreen = "\x1b[32;1m";
inline constexpr std::string_view kAnsiBoldRed = "\x1b[31;1m";
inline constexpr std::string_view kAnsiBoldYellow = "\x1b[0;33m";
inline constexpr std::string_view kAnsiReset = "\x1b[0;m";

// `text` in single quotes for a POSIX shell ('it'\''s').
std::string shell_quote(std::string_view text);

// What the log shows for `command` (without colour): "$ echo hi", or for a multi-line command
// "$ first line # collapsed multi-line command".
std::string echo_line(std::string_view command);

// The script file's contents: runs `commands` in `project_dir` with echo, stop-on-error.
std::string render_script(const std::vector<std::string>& commands, std::string_view project_dir);

// The container's argv for running the script at `script_path` (inside the container): a small
// sh program that execs bash if the image has it, else sh, on that file.
std::vector<std::string> shell_command(std::string_view script_path);

}  // namespace gantry::agent
