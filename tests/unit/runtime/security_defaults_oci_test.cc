// Gantry's security defaults must survive a trip through config.json: `gantry runtime spec`
// writes them, and the runtime (or runc, or crun) reads them back.
#include <gtest/gtest.h>

#include "runtime/capabilities.h"
#include "runtime/oci_config.h"
#include "runtime/seccomp/compile.h"
#include "runtime/seccomp/default_profile.h"

namespace gantry::runtime {
namespace {

ContainerSpec spec_with_defaults() {
  ContainerSpec spec;
  spec.root.path = "/bundle/rootfs";
  spec.process.args = {"/bin/true"};
  spec.process.capabilities = default_container_capabilities();
  spec.process.no_new_privileges = true;
  spec.seccomp = default_seccomp_profile();
  return spec;
}

TEST(SecurityDefaultsOciTest, DefaultProfileAndCapabilitiesRoundTripThroughConfigJson) {
  ContainerSpec spec = spec_with_defaults();
  Json config = to_oci_config(spec);
  auto back = parse_oci_config(config, "/bundle");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->process.capabilities.bounding, spec.process.capabilities.bounding);
  EXPECT_EQ(back->process.capabilities.effective, spec.process.capabilities.effective);
  EXPECT_EQ(back->process.capabilities.permitted, spec.process.capabilities.permitted);
  ASSERT_TRUE(back->seccomp.has_value());
  const Seccomp& a = *spec.seccomp;
  const Seccomp& b = *back->seccomp;
  EXPECT_EQ(b.default_action, a.default_action);
  EXPECT_EQ(b.default_errno_ret, a.default_errno_ret);
  EXPECT_EQ(b.architectures, a.architectures);
  ASSERT_EQ(b.syscalls.size(), a.syscalls.size());
  for (size_t i = 0; i < a.syscalls.size(); ++i) {
    EXPECT_EQ(b.syscalls[i].names, a.syscalls[i].names) << i;
    EXPECT_EQ(b.syscalls[i].action, a.syscalls[i].action) << i;
    EXPECT_EQ(b.syscalls[i].errno_ret, a.syscalls[i].errno_ret) << i;
    ASSERT_EQ(b.syscalls[i].args.size(), a.syscalls[i].args.size()) << i;
    for (size_t j = 0; j < a.syscalls[i].args.size(); ++j) {
      EXPECT_EQ(b.syscalls[i].args[j].index, a.syscalls[i].args[j].index);
      EXPECT_EQ(b.syscalls[i].args[j].value, a.syscalls[i].args[j].value);
      EXPECT_EQ(b.syscalls[i].args[j].value_two, a.syscalls[i].args[j].value_two);
      EXPECT_EQ(b.syscalls[i].args[j].op, a.syscalls[i].args[j].op);
    }
  }
  // And what came back compiles to the very same filter.
  auto original = compile_seccomp(a);
  auto reparsed = compile_seccomp(b);
  ASSERT_TRUE(original.ok()) << original.error().message();
  ASSERT_TRUE(reparsed.ok()) << reparsed.error().message();
  ASSERT_EQ(original->program.size(), reparsed->program.size());
  for (size_t i = 0; i < original->program.size(); ++i) {
    EXPECT_EQ(original->program[i].code, reparsed->program[i].code) << i;
    EXPECT_EQ(original->program[i].k, reparsed->program[i].k) << i;
  }
}

}  // namespace
}  // namespace gantry::runtime
