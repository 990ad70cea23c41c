#include "runtime/cgroups/device_filter.h"

#include "runtime/cgroups/resources.h"

namespace gantry::runtime {

namespace {

// Registers: r1 = ctx; r2 = device type; r3 = requested access; r4 = major; r5 = minor.
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn load_word(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn jump_imm(uint8_t op, uint8_t reg, int32_t imm, int16_t off) {
  return insn(BPF_JMP | op | BPF_K, reg, 0, off, imm);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

constexpr int64_t kMaxMajor = (1 << 12) - 1;  // the kernel's dev_t: 12-bit major, 20-bit minor
constexpr int64_t kMaxMinor = (1 << 20) - 1;
constexpr int32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

Result<int32_t> access_bits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    switch (c) {
      case 'r':
        bits |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        bits |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        bits |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        return Error(ErrorCode::kInvalidArgument,
                     "linux.resources.devices: access must be made of 'r', 'w' and 'm', got '" +
                         access + "'");
    }
  }
  return bits;
}

}  // namespace

Result<std::vector<bpf_insn>> compile_device_filter(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> prog = {
      load_word(BPF_REG_2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_imm(BPF_AND, BPF_REG_2, 0xffff),
      load_word(BPF_REG_3, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_imm(BPF_RSH, BPF_REG_3, 16),
      load_word(BPF_REG_4, offsetof(bpf_cgroup_dev_ctx, major)),
      load_word(BPF_REG_5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // Last rule first: the first match in this order is the last match in the rules' order.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const DeviceRule& r = *it;
    GANTRY_TRY(device_rule_line(r));  // one place validates type, access, numbers
    GANTRY_ASSIGN_OR_RETURN(int32_t access, access_bits(r.access));
    if ((r.major && *r.major > kMaxMajor) || (r.minor && *r.minor > kMaxMinor)) {
      return Error(ErrorCode::kInvalidArgument,
                   "linux.resources.devices: device " + std::to_string(r.major.value_or(-1)) + ":" +
                       std::to_string(r.minor.value_or(-1)) +
                       " is out of range (major <= 4095, minor <= 1048575)");
    }
    // Each check jumps to the end of this rule's block when the rule does not match; the
    // offsets are patched once the block's length is known.
    std::vector<bpf_insn> block;
    std::vector<size_t> to_next;
    if (r.type != "a") {
      to_next.push_back(block.size());
      block.push_back(jump_imm(BPF_JNE, BPF_REG_2,
                               r.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
    }
    if (access != kAllAccess) {
      block.push_back(mov32_reg(BPF_REG_0, BPF_REG_3));
      if (r.allow) {
        // Requested bits the rule does not grant: not this rule.
        block.push_back(alu32_imm(BPF_AND, BPF_REG_0, ~access & kAllAccess));
        to_next.push_back(block.size());
        block.push_back(jump_imm(BPF_JNE, BPF_REG_0, 0, 0));
      } else {
        // None of the requested bits is denied by this rule: not this rule.
        block.push_back(alu32_imm(BPF_AND, BPF_REG_0, access));
        to_next.push_back(block.size());
        block.push_back(jump_imm(BPF_JEQ, BPF_REG_0, 0, 0));
      }
    }
    if (r.major && *r.major != -1) {
      to_next.push_back(block.size());
      block.push_back(jump_imm(BPF_JNE, BPF_REG_4, static_cast<int32_t>(*r.major), 0));
    }
    if (r.minor && *r.minor != -1) {
      to_next.push_back(block.size());
      block.push_back(jump_imm(BPF_JNE, BPF_REG_5, static_cast<int32_t>(*r.minor), 0));
    }
    block.push_back(mov64_imm(BPF_REG_0, r.allow ? 1 : 0));
    block.push_back(exit_insn());
    for (size_t j : to_next) block[j].off = static_cast<int16_t>(block.size() - j - 1);
    prog.insert(prog.end(), block.begin(), block.end());
    // A rule that matches every access decides everything left: the verifier refuses
    // unreachable instructions, so nothing may follow it.
    if (to_next.empty()) return prog;
  }
  // No rule matched: a v1 cgroup's starting state, allow.
  prog.push_back(mov64_imm(BPF_REG_0, 1));
  prog.push_back(exit_insn());
  return prog;
}

}  // namespace gantry::runtime
