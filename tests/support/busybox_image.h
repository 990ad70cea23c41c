// The busybox image of the agent-level tests: a TestBundle's root filesystem (Debian's
// busybox-static with its applet links) imported into an image store under a test's state root,
// and a container manager over that root that runs containers with the gantry under test.
// Failures are test failures: call through ASSERT_NO_FATAL_FAILURE.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/container_manager.h"
#include "runtime/image/import.h"

namespace gantry::testing {

// Imports `rootfs` as image `ref` (with `options`: Env, Cmd, exposed ports, ...) into the image
// store under `root`.
void import_busybox_image(const std::string& root, const std::string& rootfs,
                          const std::string& ref,
                          const runtime::image::ImportOptions& options = {});

// A ContainerManager over `root` whose OCI runtime is `oci_runtime` (default: the built
// `gantry`; the built one is also the init under other runtimes); `manager` stays null when it
// cannot be opened.
void open_test_container_manager(const std::string& root, std::chrono::milliseconds stop_grace,
                                 std::unique_ptr<agent::ContainerManager>& manager,
                                 const std::string& oci_runtime = GANTRY_BIN);

}  // namespace gantry::testing
