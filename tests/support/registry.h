// Test registries: a CNCF distribution registry (Debian's `docker-registry`) that a test
// configures, starts on a free loopback port and stops by pid — plain, with TLS (a CA and a
// server certificate the fixture makes with openssl), with htpasswd Basic auth, or with token
// auth against a test's own token endpoint — plus helpers that turn images stored with
// store_test_image() into an OCI layout and push it with skopeo. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/result.h"
#include "runtime/image/content_store.h"

namespace gantry::testing {

constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";

// Why registry tests cannot run here ("" when they can): missing docker-registry or skopeo.
std::string registry_unavailable_reason();

// Makes ca.pem/ca.key and a server certificate for 127.0.0.1 and localhost (server.pem,
// server.key) in `dir`.
Status make_test_certificates(const std::string& dir);

struct RegistryConfig {
  bool tls = false;        // certificates from make_test_certificates(workdir)
  std::string basic_user;  // htpasswd Basic auth when set
  std::string basic_password;
  std::string token_realm;  // token auth when set
  std::string token_service = "gantry-test-registry";
  std::string token_issuer = "gantry-test-issuer";
  std::string token_cert;  // PEM: the certificate whose key signs the tokens
};

class RegistryProcess {
 public:
  // Writes the config under `workdir` (storage in workdir/storage), starts the registry and
  // waits (bounded) until /v2/ answers.
  static Result<std::unique_ptr<RegistryProcess>> start(const std::string& workdir,
                                                        RegistryConfig config);
  ~RegistryProcess();

  std::string host() const;  // "127.0.0.1:<port>"
  uint16_t port() const { return port_; }
  std::string ca_file() const { return workdir_ + "/ca.pem"; }
  std::string storage_dir() const { return workdir_ + "/storage"; }
  std::string log_path() const { return workdir_ + "/registry.log"; }
  // The file of blob `digest` in the registry's filesystem storage.
  std::string blob_data_path(const std::string& digest) const;

  // SIGKILL and reap: the registry dies at once, mid-response if need be.
  void kill_now();
  // SIGTERM and reap.
  void stop();
  // Starts it again on the same port and storage; waits until it answers.
  Status restart();
  bool running() const { return pid_ > 0; }

 private:
  RegistryProcess() = default;
  Status launch();
  std::string workdir_;
  RegistryConfig config_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Writes an OCI layout (oci-layout, index.json) around the blobs of a content store opened at
// `dir` (its blobs/sha256 is the layout's), naming `digest` (a manifest or an index) `tag`.
Status write_oci_layout(const std::string& dir, const std::string& digest, const std::string& tag);

struct PushOptions {
  std::string creds;     // "user:password"
  std::string cert_dir;  // for a TLS registry (ca.crt inside), else TLS verification is off
  bool all = false;      // every platform of an index
};
// skopeo copy oci:<layout>:<tag> docker://<dest>.
Status push_with_skopeo(const std::string& layout, const std::string& tag, const std::string& dest,
                        const PushOptions& options = {});

}  // namespace gantry::testing
