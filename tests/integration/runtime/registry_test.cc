// The puller and registry client against a real CNCF distribution registry on loopback, with
// images the fixture builds and pushes itself (skopeo): plain http, TLS + Basic auth, and token
// auth against the test's own RS256 token endpoint. No root needed, no internet.
#include "tests/support/registry.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>

#include "common/base64.h"
#include "common/digest.h"
#include "common/file.h"
#include "common/http/server.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "runtime/image/puller.h"
#include "tests/support/layer_tar.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_image.h"

namespace gantry::runtime::image {
namespace {

using testing::LayerTar;
using testing::RegistryProcess;

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i + 4 <= n; i += 4) {
    uint32_t v = rng();
    std::memcpy(&out[i], &v, 4);
  }
  return out;
}

LayerTar busybox_layer() {
  LayerTar t;
  auto bb = read_file("/bin/busybox");
  t.dir("bin").file("bin/busybox", bb.ok() ? *bb : std::string("no busybox"), 0755);
  t.symlink("bin/sh", "busybox");
  return t;
}

LayerTar layer_with_deletions() {
  LayerTar t;
  t.dir("etc").file("etc/motd", "hello from layer 2\n");
  t.whiteout("bin/sh");
  t.dir("data").opaque("data").file("data/kept", "kept\n");
  return t;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = testing::registry_unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(make_dirs(work_.file("reg")).ok());
  }

  void start_registry(testing::RegistryConfig config = {}) {
    auto reg = RegistryProcess::start(work_.file("reg"), std::move(config));
    ASSERT_TRUE(reg.ok()) << reg.error().message();
    registry_ = std::move(*reg);
  }

  // Builds an image (or an index) in a fresh OCI layout and pushes it as `repo_tag`.
  std::string push(const std::string& repo_tag,
                   const std::function<std::string(ContentStore&)>& build,
                   testing::PushOptions options = {}) {
    std::string layout = work_.file("layout-" + std::to_string(layouts_++));
    auto store = ContentStore::open(layout);
    EXPECT_TRUE(store.ok()) << store.error().message();
    std::string digest = build(**store);
    Status st = testing::write_oci_layout(layout, digest, "t");
    EXPECT_TRUE(st.ok()) << st.error().message();
    st = testing::push_with_skopeo(layout, "t", registry_->host() + "/" + repo_tag, options);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return digest;
  }

  std::shared_ptr<ImageStore> open_store(const std::string& name) {
    auto s = ImageStore::open(work_.file(name), UnpackOptions{});
    EXPECT_TRUE(s.ok()) << s.error().message();
    return *s;
  }

  Result<PullResult> pull(const std::shared_ptr<ImageStore>& store, const std::string& ref_text,
                          PullOptions options = {}) {
    auto ref = parse_reference(registry_->host() + "/" + ref_text);
    EXPECT_TRUE(ref.ok()) << ref.error().message();
    options.registry.retry.initial_backoff = std::chrono::milliseconds(10);
    return Puller(store).pull(*ref, options);
  }

  testing::TempDir work_{"gantry-registry-test"};
  std::unique_ptr<RegistryProcess> registry_;
  int layouts_ = 0;
};

TEST_F(RegistryTest, PullsVerifiesStoresAndUnpacksAnImage) {
  start_registry();
  std::string manifest_digest = push("team/busybox:1", [](ContentStore& s) {
    return testing::store_test_image(s, {busybox_layer(), layer_with_deletions()});
  });
  auto store = open_store("root");
  auto result = pull(store, "team/busybox:1");
  ASSERT_TRUE(result.ok()) << result.error().message();
  const ImageRecord& rec = result->record;
  EXPECT_EQ(rec.name, registry_->host() + "/team/busybox:1");
  EXPECT_EQ(rec.digest, manifest_digest);
  ASSERT_EQ(rec.layers.size(), 2u);
  for (const auto& layer : rec.layers) {
    auto d = parse_digest(layer);
    ASSERT_TRUE(store->content().has(*d)) << layer;
    auto hex = sha256_file_hex(store->content().blob_path(*d));
    ASSERT_TRUE(hex.ok());
    EXPECT_EQ("sha256:" + *hex, layer);
  }
  auto lowers = store->lower_dirs(rec);
  ASSERT_TRUE(lowers.ok()) << lowers.error().message();
  ASSERT_EQ(lowers->size(), 2u);
  EXPECT_TRUE(path_exists((*lowers)[0] + "/bin/busybox"));
  EXPECT_TRUE(path_exists((*lowers)[1] + "/etc/motd"));
  EXPECT_EQ(result->blobs_downloaded, 3);  // config + two layers
  auto found = store->find(registry_->host() + "/team/busybox:1");
  ASSERT_TRUE(found.ok()) << found.error().message();
}

TEST_F(RegistryTest, PullsZstdLayers) {
  start_registry();
  push("zstd/app:1", [](ContentStore& s) {
    return testing::store_test_image(s, {busybox_layer(), layer_with_deletions()},
                                     {.compression = Compression::kZstd});
  });
  auto store = open_store("root");
  auto result = pull(store, "zstd/app:1");
  ASSERT_TRUE(result.ok()) << result.error().message();
  auto lowers = store->lower_dirs(result->record);
  ASSERT_TRUE(lowers.ok()) << lowers.error().message();
  auto motd = read_file(lowers->back() + "/etc/motd");
  ASSERT_TRUE(motd.ok()) << motd.error().message();
  EXPECT_EQ(*motd, "hello from layer 2\n");
}

TEST_F(RegistryTest, PicksThePlatformFromAnIndexAndPlatformOptionPicksTheOther) {
  start_registry();
  std::string amd64, arm64;
  push("multi/app:1",
       [&](ContentStore& s) {
         LayerTar a, b;
         a.file("arch", "amd64\n");
         b.file("arch", "arm64\n");
         amd64 = testing::store_test_image(s, {a}, {.platform = "linux/amd64"});
         arm64 = testing::store_test_image(s, {b}, {.platform = "linux/arm64/v8"});
         return testing::store_test_index(s, {{amd64, "linux/amd64"}, {arm64, "linux/arm64/v8"}});
       },
       {.all = true});
  auto first = open_store("root-amd64");
  auto a = pull(first, "multi/app:1", {.platform = *parse_platform("linux/amd64")});
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->record.manifest_digest, amd64);
  EXPECT_EQ(a->record.platform, "linux/amd64");
  auto second = open_store("root-arm64");
  auto b = pull(second, "multi/app:1", {.platform = *parse_platform("linux/arm64")});
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->record.manifest_digest, arm64);
  auto lowers = second->lower_dirs(b->record);
  ASSERT_TRUE(lowers.ok());
  EXPECT_EQ(*read_file(lowers->front() + "/arch"), "arm64\n");
  // The arm64 layer never reached the amd64 store.
  EXPECT_FALSE(first->content().has(*parse_digest(b->record.layers[0])));
  auto none =
      pull(open_store("root-s390x"), "multi/app:1", {.platform = *parse_platform("linux/s390x")});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("linux/s390x"), std::string::npos)
      << none.error().message();
}

TEST_F(RegistryTest, BlobWhoseBytesDoNotMatchItsDigestIsRefusedAndNothingIsStored) {
  start_registry();
  std::string layer_digest;
  push("bad/blob:1", [&](ContentStore& s) {
    std::string m = testing::store_test_image(s, {layer_with_deletions()});
    auto man = parse_manifest(*s.read(*parse_digest(m)));
    layer_digest = man->image.layers[0].digest;
    return m;
  });
  // Same size, different bytes: only the digest can tell.
  std::string data_path = registry_->blob_data_path(layer_digest);
  auto original = read_file(data_path);
  ASSERT_TRUE(original.ok()) << original.error().message();
  std::string corrupted = *original;
  corrupted[corrupted.size() / 2] ^= 0x5a;
  ASSERT_TRUE(write_file(data_path, corrupted).ok());

  auto store = open_store("root");
  auto result = pull(store, "bad/blob:1");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("digest mismatch"), std::string::npos)
      << result.error().message();
  EXPECT_NE(result.error().message().find(layer_digest), std::string::npos)
      << result.error().message();
  EXPECT_FALSE(store->content().has(*parse_digest(layer_digest)));
  EXPECT_FALSE(store->find(registry_->host() + "/bad/blob:1").ok());
  auto ingest = list_dir(work_.file("root/ingest"));
  if (ingest.ok()) {
    for (const auto& name : *ingest) {
      EXPECT_NE(name.find('.'), std::string::npos);  // only lock files may stay
      EXPECT_NE(name.find(".lock"), std::string::npos) << "left behind: " << name;
    }
  }
}

TEST_F(RegistryTest, LayerThatUnpacksRightButMismatchesItsDigestLeavesNoSnapshot) {
  // Layers are unpacked while they download; the snapshot may only be committed once the blob's
  // digest is verified. A changed gzip header time keeps size and content (so the unpack and its
  // diff id succeed) and changes only the digest.
  start_registry();
  std::string layer_digest;
  push("bad/gzhead:1", [&](ContentStore& s) {
    std::string m = testing::store_test_image(s, {layer_with_deletions()});
    auto man = parse_manifest(*s.read(*parse_digest(m)));
    layer_digest = man->image.layers[0].digest;
    return m;
  });
  std::string data_path = registry_->blob_data_path(layer_digest);
  auto blob = read_file(data_path);
  ASSERT_TRUE(blob.ok()) << blob.error().message();
  ASSERT_EQ(static_cast<unsigned char>((*blob)[0]), 0x1f);
  std::string changed = *blob;
  changed[4] ^= 0x01;  // MTIME in the gzip member header
  ASSERT_TRUE(write_file(data_path, changed).ok());

  auto store = open_store("root");
  auto result = pull(store, "bad/gzhead:1");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("digest mismatch"), std::string::npos)
      << result.error().message();
  auto snaps = store->snapshots().list();
  ASSERT_TRUE(snaps.ok()) << snaps.error().message();
  EXPECT_TRUE(snaps->empty());
  auto names = list_dir(work_.file("root/snapshots"));
  ASSERT_TRUE(names.ok());
  for (const auto& n : *names) EXPECT_FALSE(n.starts_with(".tmp-")) << "left behind: " << n;
}

TEST_F(RegistryTest, RegistryKilledMidPullGivesAClearErrorAndALaterPullSucceeds) {
  start_registry();
  push("big/app:1", [](ContentStore& s) {
    LayerTar big;
    big.file("payload.bin", random_bytes(32 << 20, 7));
    return testing::store_test_image(s, {big}, {.compression = Compression::kNone});
  });
  auto store = open_store("root");
  PullOptions options;
  options.registry.retry.attempts = 3;
  std::string layer;
  options.progress = [&](const PullEvent& e) {
    if (e.kind == PullEvent::Kind::kLayerBytes && registry_->running()) {
      layer = e.digest;
      registry_->kill_now();  // the rest of the 32 MB never gets sent
    }
  };
  auto failed = pull(store, "big/app:1", options);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable) << failed.error().message();
  const std::string& msg = failed.error().message();
  EXPECT_NE(msg.find("fetch blob '" + layer + "' from '" + registry_->host() + "/big/app'"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("gave up after 3 attempts"), std::string::npos) << msg;
  EXPECT_FALSE(store->content().has(*parse_digest(layer)));

  ASSERT_TRUE(registry_->restart().ok());
  auto again = pull(store, "big/app:1");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_TRUE(store->content().has(*parse_digest(layer)));
}

TEST_F(RegistryTest, RegistryRestartedMidDownloadIsRetriedAndResumed) {
  start_registry();
  push("big/app:2", [](ContentStore& s) {
    LayerTar big;
    big.file("payload.bin", random_bytes(32 << 20, 9));
    return testing::store_test_image(s, {big}, {.compression = Compression::kNone});
  });
  auto store = open_store("root");
  PullOptions options;
  bool restarted = false;
  options.progress = [&](const PullEvent& e) {
    if (e.kind == PullEvent::Kind::kLayerBytes && !restarted) {
      restarted = true;
      registry_->kill_now();
      ASSERT_TRUE(registry_->restart().ok());
    }
  };
  auto result = pull(store, "big/app:2", options);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(restarted);
  // manifest + config + the interrupted layer request + at least one retry of it
  EXPECT_GE(result->requests, 4);
  auto lowers = store->lower_dirs(result->record);
  ASSERT_TRUE(lowers.ok());
  auto hex = sha256_file_hex(lowers->front() + "/payload.bin");
  EXPECT_EQ(*hex, sha256_hex(random_bytes(32 << 20, 9)));
}

TEST_F(RegistryTest, SecondPullOfAPresentImageMakesOnlyTheManifestRequest) {
  start_registry();
  push("again/app:1", [](ContentStore& s) {
    return testing::store_test_image(s, {busybox_layer(), layer_with_deletions()});
  });
  auto store = open_store("root");
  auto first = pull(store, "again/app:1");
  ASSERT_TRUE(first.ok()) << first.error().message();
  // Restart so the first pull's access log is flushed; count what the second pull asks for.
  ASSERT_TRUE(registry_->restart().ok());
  auto log_before = read_file(registry_->log_path());
  ASSERT_TRUE(log_before.ok());
  auto second = pull(store, "again/app:1");
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->requests, 1);
  EXPECT_EQ(second->blobs_downloaded, 0);
  EXPECT_EQ(second->record.digest, first->record.digest);
  registry_->stop();
  auto log_after = read_file(registry_->log_path());
  ASSERT_TRUE(log_after.ok());
  std::string added = log_after->substr(log_before->size());
  // Access log lines: 127.0.0.1 - - [date] "GET /v2/again/app/manifests/1 HTTP/1.1" 200 …
  int repo_requests = 0, manifest_requests = 0;
  size_t start = 0;
  while (start < added.size()) {
    size_t end = added.find('\n', start);
    if (end == std::string::npos) end = added.size();
    std::string line = added.substr(start, end - start);
    start = end + 1;
    if (line.rfind("127.0.0.1 - - [", 0) != 0) continue;
    if (line.find(" /v2/again/app/") != std::string::npos) ++repo_requests;
    if (line.find("\"GET /v2/again/app/manifests/1 HTTP/1.1\" 200") != std::string::npos) {
      ++manifest_requests;
    }
  }
  EXPECT_EQ(manifest_requests, 1) << added;
  EXPECT_EQ(repo_requests, 1) << added;
}

TEST_F(RegistryTest, CliPullPrintsPlainProgressLinesWhenNotATerminal) {
  start_registry();
  push("cli/app:1", [](ContentStore& s) {
    return testing::store_test_image(s, {busybox_layer(), layer_with_deletions()});
  });
  std::string ref = registry_->host() + "/cli/app:1";
  auto run = run_subprocess({GANTRY_BIN, "--root", work_.file("root"), "image", "pull", ref});
  ASSERT_TRUE(run.ok()) << run.error().message();
  EXPECT_EQ(run->exit_code, 0) << run->out << run->err;
  EXPECT_NE(run->out.find(": downloading "), std::string::npos) << run->out;
  EXPECT_NE(run->out.find(": downloaded"), std::string::npos) << run->out;
  EXPECT_NE(run->out.find("pulled " + ref), std::string::npos) << run->out;
  EXPECT_EQ(run->out.find("\x1b["), std::string::npos) << "no terminal codes in plain output";

  auto again = run_subprocess({GANTRY_BIN, "--root", work_.file("root"), "image", "pull", ref});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 0) << again->err;
  EXPECT_NE(again->out.find("already present"), std::string::npos) << again->out;

  auto missing = run_subprocess({GANTRY_BIN, "--root", work_.file("root"), "image", "pull",
                                 registry_->host() + "/cli/none:1"});
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(missing->exit_code, 0);
  EXPECT_NE(missing->err.find("manifest '1' not found in '" + registry_->host() + "/cli/none'"),
            std::string::npos)
      << missing->err;
}

TEST_F(RegistryTest, TlsWithBasicAuthPullsWithTheCaAndRefusesWrongCredentials) {
  start_registry({.tls = true, .basic_user = "alice", .basic_password = "right-password"});
  std::string certs = work_.file("certs");
  ASSERT_TRUE(make_dirs(certs).ok());
  ASSERT_TRUE(write_file(certs + "/ca.crt", *read_file(registry_->ca_file())).ok());
  push("secure/app:1",
       [](ContentStore& s) { return testing::store_test_image(s, {layer_with_deletions()}); },
       {.creds = "alice:right-password", .cert_dir = certs});

  PullOptions good;
  good.registry.ca_file = registry_->ca_file();
  good.registry.credentials = Credentials{"alice", "right-password"};
  auto ok = pull(open_store("root"), "secure/app:1", good);
  ASSERT_TRUE(ok.ok()) << ok.error().message();

  PullOptions wrong = good;
  wrong.registry.credentials = Credentials{"alice", "wrong-password"};
  auto refused = pull(open_store("root2"), "secure/app:1", wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(refused.error().message().find("authentication failed for '" + registry_->host() +
                                           "/secure/app': the registry refused the credentials "
                                           "of user 'alice'"),
            std::string::npos)
      << refused.error().message();

  PullOptions anonymous;
  anonymous.registry.ca_file = registry_->ca_file();
  auto needs = pull(open_store("root3"), "secure/app:1", anonymous);
  ASSERT_FALSE(needs.ok());
  EXPECT_NE(needs.error().message().find("authentication required"), std::string::npos)
      << needs.error().message();

  PullOptions untrusted;  // no --ca: the test CA is not a system CA
  untrusted.registry.credentials = good.registry.credentials;
  auto bad_tls = pull(open_store("root4"), "secure/app:1", untrusted);
  ASSERT_FALSE(bad_tls.ok());
  EXPECT_EQ(bad_tls.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(bad_tls.error().message().find("certificate verification failed"), std::string::npos)
      << bad_tls.error().message();
}

// A token endpoint of the test's own: checks Basic credentials, grants the scopes asked for, and
// signs RS256 JWTs with a key whose self-signed certificate the registry trusts (x5c header).
class TokenIssuer {
 public:
  static std::unique_ptr<TokenIssuer> start(const std::string& dir, std::string user,
                                            std::string password) {
    auto t = std::unique_ptr<TokenIssuer>(new TokenIssuer());
    t->user_ = std::move(user);
    t->password_ = std::move(password);
    t->cert_path_ = dir + "/token.pem";
    auto r = run_subprocess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             dir + "/token.key", "-out", t->cert_path_, "-days", "2", "-subj",
                             "/CN=gantry test token signer", "-addext",
                             "keyUsage=digitalSignature,keyCertSign"});
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.error().message());
    FILE* kf = std::fopen((dir + "/token.key").c_str(), "r");
    t->key_ = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
    std::fclose(kf);
    FILE* cf = std::fopen(t->cert_path_.c_str(), "r");
    X509* cert = PEM_read_X509(cf, nullptr, nullptr, nullptr);
    std::fclose(cf);
    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    t->cert_der_b64_ = base64_encode(std::string(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    X509_free(cert);
    auto server =
        http::Server::start({}, [p = t.get()](const http::Request& r) { return p->handle(r); });
    EXPECT_TRUE(server.ok());
    t->server_ = std::move(*server);
    return t;
  }
  ~TokenIssuer() {
    server_.reset();
    EVP_PKEY_free(key_);
  }
  std::string realm() const { return server_->url() + "/token"; }
  const std::string& cert_path() const { return cert_path_; }
  int refusals() const { return refusals_; }

 private:
  TokenIssuer() = default;

  http::Response handle(const http::Request& r) {
    std::string expected = "Basic " + base64_encode(user_ + ":" + password_);
    if (r.headers.get("Authorization") != expected) {
      ++refusals_;
      return http::text_response(401, R"({"details":"invalid credentials"})", "application/json");
    }
    std::string service;
    Json access = Json::array();
    for (const auto& [k, v] : http::parse_query(r.query())) {
      if (k == "service") service = v;
      if (k != "scope") continue;
      size_t first = v.find(':'), last = v.rfind(':');
      Json actions = Json::array();
      std::string list = v.substr(last + 1);
      for (size_t pos = 0; pos <= list.size();) {
        size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        actions.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
      access.push_back({{"type", v.substr(0, first)},
                        {"name", v.substr(first + 1, last - first - 1)},
                        {"actions", actions}});
    }
    int64_t now = std::time(nullptr);
    Json header{{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_b64_}}};
    Json claims{{"iss", "gantry-test-issuer"},
                {"sub", user_},
                {"aud", service},
                {"exp", now + 600},
                {"nbf", now - 60},
                {"iat", now},
                {"jti", std::to_string(++issued_)},
                {"access", access}};
    std::string signing_input =
        base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t sig_len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &sig_len,
                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                   signing_input.size());
    std::string sig(sig_len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                   signing_input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(sig_len);
    std::string token = signing_input + "." + base64url_encode(sig);
    return http::text_response(200, Json{{"token", token}, {"expires_in", 600}}.dump(),
                               "application/json");
  }

  std::string user_, password_, cert_path_, cert_der_b64_;
  EVP_PKEY* key_ = nullptr;
  std::unique_ptr<http::Server> server_;
  std::atomic<int> issued_{0};
  std::atomic<int> refusals_{0};
};

TEST_F(RegistryTest, TokenAuthPullsWithCredentialsAndSaysWhenTheyAreWrong) {
  auto issuer = TokenIssuer::start(work_.path(), "bob", "token-pass");
  start_registry({.token_realm = issuer->realm(), .token_cert = issuer->cert_path()});
  push("tok/app:1",
       [](ContentStore& s) { return testing::store_test_image(s, {layer_with_deletions()}); },
       {.creds = "bob:token-pass"});

  PullOptions good;
  good.registry.credentials = Credentials{"bob", "token-pass"};
  auto ok = pull(open_store("root"), "tok/app:1", good);
  ASSERT_TRUE(ok.ok()) << ok.error().message();

  PullOptions wrong;
  wrong.registry.credentials = Credentials{"bob", "nope"};
  int refusals_before = issuer->refusals();
  auto refused = pull(open_store("root2"), "tok/app:1", wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(refused.error().message().find("authentication failed for '" + registry_->host() +
                                           "/tok/app': token server '" + issuer->realm() +
                                           "' refused the credentials of user 'bob' (401)"),
            std::string::npos)
      << refused.error().message();
  EXPECT_EQ(issuer->refusals(), refusals_before + 1);
}

}  // namespace
}  // namespace gantry::runtime::image
