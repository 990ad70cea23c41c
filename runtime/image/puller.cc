#include "runtime/image/puller.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/logging.h"

namespace gantry::runtime::image {

namespace {

// Download thread → the unpacker of the same layer: the blob's chunks in arrival order, at
// most kCapacity bytes ahead. The end is signalled only after the blob is verified and stored,
// so an unpacker never renames a snapshot made from bytes whose digest did not match.
class ChunkPipe {
 public:
  static constexpr size_t kCapacity = 4 << 20;

  // Queues a copy of `data`; waits while the pipe is full. Dropped once the reader is gone.
  void push(std::string_view data) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return bytes_ < kCapacity || reader_gone_ || closed_; });
    if (reader_gone_ || closed_) return;
    queue_.emplace_back(data);
    bytes_ += data.size();
    cv_.notify_all();
  }
  // The end of the stream: clean (nullopt) or failed.
  void close(std::optional<Error> error) {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    error_ = std::move(error);
    cv_.notify_all();
  }
  // Reader side (a ChunkReader): the next chunk, "" at a clean end.
  Result<std::string_view> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      bytes_ -= current_.size();
      cv_.notify_all();
      return std::string_view(current_);
    }
    if (error_) return *error_;
    return std::string_view();
  }
  void reader_done() {
    std::lock_guard lock(mu_);
    reader_gone_ = true;
    queue_.clear();
    bytes_ = 0;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  size_t bytes_ = 0;               // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  bool reader_gone_ = false;       // guarded by mu_
  std::optional<Error> error_;     // guarded by mu_
  std::string current_;            // the reader's
};

// Where a layer's bytes also go while it downloads: its snapshot.
struct SnapshotTarget {
  std::string chain_id;
  std::string diff_id;
};

struct PullState {
  ContentStore& content;
  Snapshotter& snapshots;
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
  // With a `target`, the layer is unpacked into its snapshot at the same time, on a thread of
  // its own; should that fail, commit_image unpacks it from the stored blob (and reports why).
  Status download(const Descriptor& desc, bool report, const SnapshotTarget* target = nullptr) {
    GANTRY_ASSIGN_OR_RETURN(Digest digest, parse_digest(desc.digest));
    GANTRY_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, content.begin(digest, desc.size));
    if (!writer) {
      if (report) emit({PullEvent::Kind::kLayerPresent, desc.digest, desc.size, desc.size, ""});
      return ok_status();
    }
    std::optional<ChunkPipe> pipe;
    std::thread unpacker;
    if (target != nullptr && !snapshots.has(target->chain_id)) {
      pipe.emplace();
      unpacker = std::thread([this, &pipe, target] {
        ChunkReader read = [&pipe]() { return pipe->pop(); };
        auto dir = snapshots.prepare_from(target->chain_id, target->diff_id, read, false);
        pipe->reader_done();
        if (!dir.ok()) {
          logger("image")->debug("streamed unpack gave up chain_id={} error=\"{}\"",
                                 target->chain_id, dir.error().message());
        }
      });
    }
    struct Join {
      std::optional<ChunkPipe>& pipe;
      std::thread& t;
      ~Join() {
        if (pipe) pipe->close(Error(ErrorCode::kCancelled, "download failed"));
        if (t.joinable()) t.join();
      }
    } join{pipe, unpacker};
    BlobSink sink;
    sink.on_data = [&](std::string_view data) -> Status {
      if (cancel) return Error(ErrorCode::kCancelled, "cancelled: another download failed");
      if (!writer) return ok_status();  // stored by someone else after a restart
      GANTRY_TRY(writer->write(data));
      if (pipe) pipe->push(data);
      bytes += static_cast<int64_t>(data.size());
      if (report) {
        emit({PullEvent::Kind::kLayerBytes, desc.digest, writer->written(), desc.size, ""});
      }
      return ok_status();
    };
    sink.on_restart = [&]() -> Status {
      // The unpacker has bytes the restart repeats: it stops, and commit_image unpacks.
      if (pipe) pipe->close(Error(ErrorCode::kCancelled, "download restarted"));
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
    } else if (pipe) {
      pipe->close(Error(ErrorCode::kCancelled, "blob stored by another pull"));
    }
    if (pipe) pipe->close(std::nullopt);  // verified and stored: the snapshot may be committed
    if (unpacker.joinable()) unpacker.join();
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
  PullState state{content, store_->snapshots(), client, ref.path};
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

  // Config first (small), then the layers in parallel, each unpacked as it arrives when the
  // config's diff ids tell its snapshot (commit_image checks the counts and unpacks the rest).
  Status st = state.download(manifest.image.config, false);
  if (!st.ok()) return fail(std::move(st).error());
  std::vector<SnapshotTarget> targets;
  if (auto cd = parse_digest(manifest.image.config.digest); cd.ok()) {
    if (auto bytes = content.read(*cd); bytes.ok()) {
      if (auto config = parse_image_config(*bytes);
          config.ok() && config->diff_ids.size() == manifest.image.layers.size()) {
        auto chains = chain_ids(config->diff_ids);
        for (size_t i = 0; i < chains.size(); ++i)
          targets.push_back({chains[i], config->diff_ids[i]});
      }
    }
  }
  std::vector<std::pair<const Descriptor*, const SnapshotTarget*>> todo;
  for (size_t i = 0; i < manifest.image.layers.size(); ++i) {
    const Descriptor& layer = manifest.image.layers[i];
    auto d = parse_digest(layer.digest);
    if (!d.ok()) return fail(std::move(d).error());
    if (content.has(*d)) {
      state.emit({PullEvent::Kind::kLayerPresent, layer.digest, layer.size, layer.size, ""});
    } else {
      state.emit({PullEvent::Kind::kLayerQueued, layer.digest, 0, layer.size, ""});
      todo.emplace_back(&layer, targets.empty() ? nullptr : &targets[i]);
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
        s = state.download(*todo[i].first, true, todo[i].second);
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
