// run_device_filter(): executes a cgroup device BPF program (runtime/cgroups/device_filter.h)
// the way the kernel would for one access, so tests check what a filter allows rather than
// which instructions it has. Knows only the instructions the compiler emits; anything else,
// a jump out of the program or running off its end fails the test (returns -1).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <vector>

namespace gantry::testing {

// type: 'c' or 'b'; access: any of "rwm". Returns 1 (allow), 0 (deny) or -1 (bad program).
inline int run_device_filter(const std::vector<bpf_insn>& prog, char type, uint32_t major,
                             uint32_t minor, const char* access) {
  uint32_t acc = 0;
  for (const char* a = access; *a; ++a)
    acc |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  bpf_cgroup_dev_ctx ctx{};
  ctx.access_type = (acc << 16) | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  ctx.major = major;
  ctx.minor = minor;
  uint64_t r[11] = {};
  const auto* bytes = reinterpret_cast<const uint8_t*>(&ctx);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        if (i.src_reg != BPF_REG_1 || i.off < 0 || i.off + 4 > static_cast<int>(sizeof(ctx)))
          return -1;
        uint32_t v;
        __builtin_memcpy(&v, bytes + i.off, 4);
        r[i.dst_reg] = v;
        break;
      }
      case BPF_ALU | BPF_AND | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg] & imm);
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) >> (i.imm & 31);
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.src_reg]);
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        r[i.dst_reg] = imm;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != imm) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        if (r[i.dst_reg] == imm) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return r[0] == 1 ? 1 : r[0] == 0 ? 0 : -1;
      default:
        return -1;
    }
    if (pc + 1 > prog.size()) return -1;
  }
  return -1;
}

}  // namespace gantry::testing
