// Cgroup statistics parsing, PURE: the text of cgroup control files (cpuacct.usage,
// memory.max_usage_in_bytes, memory.oom_control, cpu.stat, memory.events, memory.peak,
// pids.current, cgroup.procs, /proc/<pid>/cgroup) → numbers. The managers read the files and
// fill CgroupUsage from these. Errors name the file and the bad content. No state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gantry::runtime {

// A file holding one unsigned number (cpuacct.usage, memory.max_usage_in_bytes,
// memory.failcnt, memory.peak, pids.current). "max" is an error: callers that accept it check
// first. `file` names the file in errors.
Result<uint64_t> parse_cgroup_uint(std::string_view text, std::string_view file);

// The value of `key` in a flat keyed file ("key value" lines: memory.oom_control's oom_kill,
// cpu.stat's usage_usec, memory.events' oom_kill). kNotFound when the key is absent.
Result<uint64_t> parse_cgroup_keyed(std::string_view text, std::string_view key,
                                    std::string_view file);

// Pids in cgroup.procs, one per line, in file order.
Result<std::vector<pid_t>> parse_cgroup_procs(std::string_view text, std::string_view file);

// /proc/<pid>/cgroup: "id:controllers:path" lines → controller → path. Co-mounted controllers
// each get an entry, named hierarchies are keyed "name=systemd", and the v2 entry ("0::/x")
// is keyed "".
Result<std::map<std::string, std::string>> parse_proc_cgroup(std::string_view text);

}  // namespace gantry::runtime
