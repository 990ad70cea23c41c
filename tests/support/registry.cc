#include "tests/support/registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/http/client.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "common/unique_fd.h"

extern char** environ;

namespace gantry::testing {

namespace {

Status run_ok(const std::vector<std::string>& argv, const std::string& what,
              const SubprocessOptions& options = {}) {
  auto r = run_subprocess(argv, options);
  if (!r.ok()) return std::move(r).error().with_context(what);
  if (r->exit_code != 0) {
    return Error(ErrorCode::kInternal,
                 what + ": exit " + std::to_string(r->exit_code) + ": " + r->err + r->out);
  }
  return ok_status();
}

Result<uint16_t> free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return sys_error("bind 127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return sys_error("getsockname");
  }
  return ntohs(addr.sin_port);
}

}  // namespace

std::string registry_unavailable_reason() {
  if (::access(kRegistryBinary, X_OK) != 0) {
    return std::string(kRegistryBinary) + " is missing (Debian package docker-registry)";
  }
  if (::access("/usr/bin/skopeo", X_OK) != 0) return "/usr/bin/skopeo is missing";
  return "";
}

Status make_test_certificates(const std::string& dir) {
  if (path_exists(dir + "/server.pem")) return ok_status();
  std::string ext = dir + "/server.ext";
  GANTRY_TRY(write_file(ext,
                        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                        "basicConstraints=CA:FALSE\n"
                        "keyUsage=digitalSignature,keyEncipherment\n"
                        "extendedKeyUsage=serverAuth\n"));
  GANTRY_TRY(run_ok({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/ca.key", "-out",
                     dir + "/ca.pem", "-days", "2", "-subj", "/CN=gantry test ca"},
                    "make test ca"));
  GANTRY_TRY(run_ok(
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=127.0.0.1"},
      "make server key"));
  return run_ok({"openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem",
                 "-CAkey", dir + "/ca.key", "-CAcreateserial", "-out", dir + "/server.pem", "-days",
                 "2", "-extfile", ext},
                "sign server certificate");
}

Result<std::unique_ptr<RegistryProcess>> RegistryProcess::start(const std::string& workdir,
                                                                RegistryConfig config) {
  std::unique_ptr<RegistryProcess> reg(new RegistryProcess());
  reg->workdir_ = workdir;
  reg->config_ = std::move(config);
  GANTRY_TRY(make_dirs(reg->storage_dir()));
  GANTRY_ASSIGN_OR_RETURN(reg->port_, free_port());
  std::string yaml =
      "version: 0.1\n"
      "log:\n  level: info\n  formatter: text\n"
      "storage:\n  filesystem:\n    rootdirectory: " +
      reg->storage_dir() +
      "\n"
      "  delete:\n    enabled: true\n"
      "  maintenance:\n    uploadpurging:\n      enabled: false\n"
      "http:\n  addr: 127.0.0.1:" +
      std::to_string(reg->port_) +
      "\n"
      "  secret: gantry-test-secret\n";
  if (reg->config_.tls) {
    GANTRY_TRY(make_test_certificates(workdir));
    yaml += "  tls:\n    certificate: " + workdir + "/server.pem\n    key: " + workdir +
            "/server.key\n";
  }
  if (!reg->config_.basic_user.empty()) {
    auto r =
        run_subprocess({"htpasswd", "-Bbn", reg->config_.basic_user, reg->config_.basic_password});
    if (!r.ok() || r->exit_code != 0) {
      return Error(ErrorCode::kInternal, "htpasswd failed (package apache2-utils)");
    }
    GANTRY_TRY(write_file(workdir + "/htpasswd", r->out));
    yaml += "auth:\n  htpasswd:\n    realm: gantry-test\n    path: " + workdir + "/htpasswd\n";
  } else if (!reg->config_.token_realm.empty()) {
    yaml += "auth:\n  token:\n    realm: " + reg->config_.token_realm +
            "\n    service: " + reg->config_.token_service +
            "\n    issuer: " + reg->config_.token_issuer +
            "\n    rootcertbundle: " + reg->config_.token_cert + "\n";
  }
  GANTRY_TRY(write_file(workdir + "/config.yml", yaml));
  GANTRY_TRY(reg->launch());
  return reg;
}

Status RegistryProcess::launch() {
  std::string config = workdir_ + "/config.yml";
  std::string log = log_path();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = {kRegistryBinary, "serve", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, kRegistryBinary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sys_error("spawn " + std::string(kRegistryBinary), rc);
  pid_ = pid;

  // Poll /v2/ until it answers: bounded, and a registry that exits is reported at once.
  http::Client client({.connect_timeout = std::chrono::seconds(2),
                       .io_timeout = std::chrono::seconds(2),
                       .ca_file = config_.tls ? ca_file() : ""});
  std::string url = std::string(config_.tls ? "https" : "http") + "://" + host() + "/v2/";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      auto text = read_file(log);
      return Error(ErrorCode::kInternal,
                   "registry exited at start: " + (text.ok() ? text->substr(0, 2000) : ""));
    }
    auto resp = client.send({.url = url});
    if (resp.ok() && (resp->status == 200 || resp->status == 401)) return ok_status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_now();
  return Error(ErrorCode::kDeadlineExceeded, "registry did not answer on " + url);
}

RegistryProcess::~RegistryProcess() { stop(); }

std::string RegistryProcess::host() const { return "127.0.0.1:" + std::to_string(port_); }

std::string RegistryProcess::blob_data_path(const std::string& digest) const {
  std::string hex = digest.substr(digest.find(':') + 1);
  return storage_dir() + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex +
         "/data";
}

void RegistryProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RegistryProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Status RegistryProcess::restart() {
  stop();
  return launch();
}

Status write_oci_layout(const std::string& dir, const std::string& digest, const std::string& tag) {
  auto store = runtime::image::ContentStore::open(dir);
  if (!store.ok()) return std::move(store).error();
  auto d = parse_digest(digest);
  if (!d.ok()) return std::move(d).error();
  GANTRY_ASSIGN_OR_RETURN(std::string bytes, (*store)->read(*d));
  GANTRY_ASSIGN_OR_RETURN(auto manifest, runtime::image::parse_manifest(bytes));
  std::string media_type(manifest.is_index() ? runtime::image::media_type::kOciIndex
                                             : runtime::image::media_type::kOciManifest);
  Json index{{"schemaVersion", 2},
             {"manifests",
              {{{"mediaType", media_type},
                {"digest", digest},
                {"size", bytes.size()},
                {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}}}};
  GANTRY_TRY(write_file(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  return write_file(dir + "/index.json", index.dump());
}

Status push_with_skopeo(const std::string& layout, const std::string& tag, const std::string& dest,
                        const PushOptions& options) {
  std::vector<std::string> argv = {"skopeo", "--insecure-policy", "copy", "--quiet"};
  if (options.all) argv.push_back("--all");
  if (!options.creds.empty()) argv.push_back("--dest-creds=" + options.creds);
  if (!options.cert_dir.empty()) {
    argv.push_back("--dest-cert-dir=" + options.cert_dir);
  } else {
    argv.push_back("--dest-tls-verify=false");
  }
  argv.push_back("oci:" + layout + ":" + tag);
  argv.push_back("docker://" + dest);
  SubprocessOptions so;
  so.timeout = std::chrono::seconds(120);
  return run_ok(argv, "skopeo copy to '" + dest + "'", so);
}

}  // namespace gantry::testing
