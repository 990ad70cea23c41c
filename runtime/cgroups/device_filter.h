// Device filter for cgroup v2, PURE: device rules (OCI linux.resources.devices, already with
// the standard allows appended) → a BPF_PROG_TYPE_CGROUP_DEVICE program, as v1's
// devices.allow/deny would enforce them: the last rule matching the device wins; a device no
// rule matches is allowed (a v1 cgroup starts as allow-all, so OCI configs open with a
// deny-all). CgroupFs::attach_device_filter() loads and attaches it. No state.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

// The program: returns 1 (allow) or 0 (deny) for a bpf_cgroup_dev_ctx. A rule matches when
// its type (or "a"), major and minor (or wildcards) match, and — for an allow — it grants every
// requested access, or — for a deny — it denies any of them. kInvalidArgument naming
// linux.resources.devices for a bad rule.
Result<std::vector<bpf_insn>> compile_device_filter(const std::vector<DeviceRule>& rules);

}  // namespace gantry::runtime
