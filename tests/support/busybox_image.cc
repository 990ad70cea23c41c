#include "tests/support/busybox_image.h"

#include <gtest/gtest.h>

#include "runtime/image/image_store.h"

namespace gantry::testing {

void import_busybox_image(const std::string& root, const std::string& rootfs,
                          const std::string& ref, const runtime::image::ImportOptions& options) {
  auto store = runtime::image::ImageStore::open(root);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto rec = runtime::image::import_rootfs(**store, rootfs, ref, options);
  ASSERT_TRUE(rec.ok()) << rec.error().message();
}

void open_test_container_manager(const std::string& root, std::chrono::milliseconds stop_grace,
                                 std::unique_ptr<agent::ContainerManager>& manager,
                                 const std::string& oci_runtime) {
  agent::ManagerOptions mo;
  mo.root = root;
  mo.oci_runtime = oci_runtime;
  mo.init_executable = GANTRY_BIN;
  mo.stop_grace = stop_grace;
  auto m = agent::ContainerManager::open(mo);
  ASSERT_TRUE(m.ok()) << m.error().message();
  manager = std::move(*m);
}

}  // namespace gantry::testing
