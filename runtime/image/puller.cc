#include "runtime/image/puller.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/logging.h"

namespace gantry::runtime::image {

namespace {

struct PullState {
  ContentStore& content;
  RegistryClient& client;
  std::string repository;
  std::mutex progress_mu;
  PullProgress progress;
  std::atomic<bool> cancel{false};
  std::atomic<int64_t> bytes{0};
  std::atomic<int> blobs{0};

  void emit(const PullEvent& event) {
    if (!progress) return;
    std::lock_guard lock(progress_mu);
    progress(event);
  }

  // Streams one blob into the store; a blob that appears meanwhile (another pull) is fine.
  Status download(const Descriptor& desc, bool report) {
    GANTRY_ASSIGN_OR_RETURN(Digest digest, parse_digest(desc.digest));
    GANTRY_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, content.begin(digest, desc.size));
    if (!writer) {
      if (report) emit({PullEvent::Kind::kLayerPresent, desc.digest, desc.size, desc.size, ""});
      return ok_status();
    }
    BlobSink sink;
    sink.on_data = [&](std::string_view data) -> Status {
      if (cancel) return Error(ErrorCode::kCancelled, "cancelled: another download failed");
      if (!writer) return ok_status();  // stored by someone else after a restart
      GANTRY_TRY(writer->write(data));
      bytes += static_cast<int64_t>(data.size());
      if (report) {
        emit({PullEvent::Kind::kLayerBytes, desc.digest, writer->written(), desc.size, ""});
      }
      return ok_status();
    };
    sink.on_restart = [&]() -> Status {
      writer.reset();
      GANTRY_ASSIGN_OR_RETURN(writer, content.begin(digest, desc.size));
      return ok_status();
    };
    GANTRY_TRY(client.get_blob(repository, digest, desc.size, sink));
    if (writer) {
      Status st = writer->commit();
      if (!st.ok()) {
        return std::move(st).error().with_context("blob from '" + client.registry() + "/" +
                                                  repository + "'");
      }
      ++blobs;
    }
    if (report) emit({PullEvent::Kind::kLayerDone, desc.digest, desc.size, desc.size, ""});
    return ok_status();
  }

  // A manifest by digest: from the store when present, else fetched (and verified) and stored.
  Result<std::string> manifest_bytes(const std::string& digest_text) {
    GANTRY_ASSIGN_OR_RETURN(Digest digest, parse_digest(digest_text));
    if (content.has(digest)) return content.read(digest);
    GANTRY_ASSIGN_OR_RETURN(FetchedManifest m, client.get_manifest(repository, digest.str()));
    bytes += static_cast<int64_t>(m.bytes.size());
    GANTRY_TRY(content.put(m.digest, m.bytes));
    return std::move(m.bytes);
  }
};

}  // namespace

Result<PullResult> Puller::pull(const Reference& ref, const PullOptions& options) {
  std::string name = ref.str();
  auto fail = [&](Error e) { return std::move(e).with_context("pull '" + name + "'"); };
  ContentStore& content = store_->content();
  auto lease = content.lease();
  if (!lease.ok()) return fail(std::move(lease).error());
  RegistryClient client(ref.registry_host(), options.registry);
  PullState state{content, client, ref.path};
  state.progress = options.progress;

  // The top manifest: by digest from the store when present, else from the registry.
  std::string top_digest;
  std::string top_bytes;
  std::string top_type;
  if (!ref.digest.empty()) {
    auto bytes = state.manifest_bytes(ref.digest);
    if (!bytes.ok()) return fail(std::move(bytes).error());
    top_digest = ref.digest;
    top_bytes = std::move(*bytes);
  } else {
    auto fetched = client.get_manifest(ref.path, ref.tag);
    if (!fetched.ok()) return fail(std::move(fetched).error());
    state.bytes += static_cast<int64_t>(fetched->bytes.size());
    if (!content.has(fetched->digest)) {
      Status st = content.put(fetched->digest, fetched->bytes);
      if (!st.ok()) return fail(std::move(st).error());
    }
    top_digest = fetched->digest.str();
    top_bytes = std::move(fetched->bytes);
    top_type = fetched->media_type;
  }
  auto top = parse_manifest(top_bytes, top_type);
  if (!top.ok()) return fail(std::move(top).error().with_context("manifest '" + top_digest + "'"));

  Manifest manifest = std::move(*top);
  std::string manifest_digest = top_digest;
  if (manifest.is_index()) {
    auto chosen = select_platform(manifest.index, options.platform);
    if (!chosen.ok()) return fail(std::move(chosen).error());
    auto bytes = state.manifest_bytes(chosen->digest);
    if (!bytes.ok()) return fail(std::move(bytes).error());
    auto inner = parse_manifest(*bytes, chosen->media_type);
    if (!inner.ok()) {
      return fail(std::move(inner).error().with_context("manifest '" + chosen->digest + "'"));
    }
    if (inner->is_index()) {
      return fail(Error(ErrorCode::kUnimplemented,
                        "manifest '" + chosen->digest + "' is an index inside an index"));
    }
    manifest = std::move(*inner);
    manifest_digest = chosen->digest;
  }
  state.emit({PullEvent::Kind::kResolved, "", 0, 0, manifest_digest});

  // Config first (small), then the layers in parallel.
  Status st = state.download(manifest.image.config, false);
  if (!st.ok()) return fail(std::move(st).error());
  std::vector<const Descriptor*> todo;
  for (const auto& layer : manifest.image.layers) {
    auto d = parse_digest(layer.digest);
    if (!d.ok()) return fail(std::move(d).error());
    if (content.has(*d)) {
      state.emit({PullEvent::Kind::kLayerPresent, layer.digest, layer.size, layer.size, ""});
    } else {
      state.emit({PullEvent::Kind::kLayerQueued, layer.digest, 0, layer.size, ""});
      todo.push_back(&layer);
    }
  }
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  std::optional<Error> first_error;
  auto worker = [&] {
    for (;;) {
      size_t i = next++;
      if (i >= todo.size() || state.cancel) return;
      Status s = Error(ErrorCode::kInternal, "download did not run");
      try {
        s = state.download(*todo[i], true);
      } catch (const std::exception& e) {
        s = Error(ErrorCode::kInternal, std::string("download thread: ") + e.what());
      }
      if (!s.ok()) {
        std::lock_guard lock(error_mu);
        // The first real failure wins over the cancellations it causes in other threads.
        if (!first_error || (first_error->code() == ErrorCode::kCancelled &&
                             s.error().code() != ErrorCode::kCancelled)) {
          first_error = s.error();
        }
        state.cancel = true;
      }
    }
  };
  size_t threads = std::min<size_t>(std::max(1, options.parallel_downloads), todo.size());
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  if (threads > 0) worker();
  for (auto& t : pool) t.join();
  if (first_error) return fail(std::move(*first_error));

  state.emit({PullEvent::Kind::kUnpacking, "", 0, 0, ""});
  auto record = store_->commit_image(name, top_digest, options.platform);
  if (!record.ok()) return fail(std::move(record).error());
  PullResult result;
  result.record = std::move(*record);
  result.bytes_downloaded = state.bytes;
  result.blobs_downloaded = state.blobs;
  result.requests = client.requests_sent();
  logger("image")->info("image pulled name={} digest={} bytes={} requests={}", name, top_digest,
                        result.bytes_downloaded, result.requests);
  return result;
}

}  // namespace gantry::runtime::image
