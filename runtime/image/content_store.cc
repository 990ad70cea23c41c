#include "runtime/image/content_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "common/file.h"
#include "runtime/paths.h"

namespace gantry::runtime::image {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

// Opens (creating) `path` and takes flock `op` on it, retrying on EINTR.
Result<UniqueFd> lock_file(const std::string& path, int op) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_error("open lock " + q(path));
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return sys_error("lock " + q(path));
  }
  return fd;
}

class FileBlobWriter final : public BlobWriter {
 public:
  FileBlobWriter(Digest expected, int64_t size, std::string final_path, std::string temp_path,
                 UniqueFd fd, std::string lock_path, UniqueFd lock)
      : expected_(std::move(expected)),
        size_(size),
        final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        fd_(std::move(fd)),
        lock_path_(std::move(lock_path)),
        lock_(std::move(lock)) {}

  ~FileBlobWriter() override {
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    // Waiters blocked on the old lock file find the blob present (or retry the download):
    // removing it is safe because the lock only avoids duplicate work; temp names are unique.
    ::unlink(lock_path_.c_str());
  }

  Status write(const void* data, size_t size) override {
    if (done_) return Error(ErrorCode::kFailedPrecondition, "blob " + q(expected_.str()) +
                                                                ": write after commit");
    if (size_ >= 0 && written_ + static_cast<int64_t>(size) > size_)
      return Error(ErrorCode::kInvalidArgument,
                   "blob " + q(expected_.str()) + ": more than the expected " +
                       std::to_string(size_) + " bytes");
    hash_.update(data, size);
    const char* p = static_cast<const char*>(data);
    size_t left = size;
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("write blob " + q(temp_path_));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    written_ += static_cast<int64_t>(size);
    return ok_status();
  }

  int64_t written() const override { return written_; }

  Status commit() override {
    if (done_) return Error(ErrorCode::kFailedPrecondition, "blob " + q(expected_.str()) +
                                                                ": committed twice");
    done_ = true;
    if (size_ >= 0 && written_ != size_)
      return Error(ErrorCode::kInvalidArgument,
                   "blob " + q(expected_.str()) + ": size mismatch: got " +
                       std::to_string(written_) + " bytes, expected " + std::to_string(size_));
    std::string got = "sha256:" + hash_.finish_hex();
    if (got != expected_.str())
      return Error(ErrorCode::kInvalidArgument,
                   "blob " + q(expected_.str()) + ": digest mismatch: got " + q(got));
    if (::fchmod(fd_.get(), 0444) != 0) return sys_error("chmod " + q(temp_path_));
    if (::fsync(fd_.get()) != 0) return sys_error("fsync " + q(temp_path_));
    fd_.reset();
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
      return sys_error("rename " + q(temp_path_) + " to " + q(final_path_));
    temp_path_.clear();
    return ok_status();
  }

 private:
  Digest expected_;
  int64_t size_;
  std::string final_path_;
  std::string temp_path_;
  UniqueFd fd_;
  std::string lock_path_;
  UniqueFd lock_;
  Sha256 hash_;
  int64_t written_ = 0;
  bool done_ = false;
};

std::string images_path(const std::string& root) { return join_path(root, "images.json"); }

Result<std::map<std::string, ImageRecord>> load_records(const std::string& root) {
  std::map<std::string, ImageRecord> out;
  std::string path = images_path(root);
  if (!path_exists(path)) return out;
  GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(path));
  auto images = j.find("images");
  if (images == j.end() || !images->is_object())
    return Error(ErrorCode::kInvalidArgument, "image index " + q(path) + ": no 'images' object");
  for (auto& [name, rec] : images->items()) {
    auto r = image_record_from_json(rec);
    if (!r.ok()) return std::move(r).error().with_context("image index " + q(path));
    out[name] = std::move(*r);
  }
  return out;
}

Status save_records(const std::string& root, const std::map<std::string, ImageRecord>& recs) {
  Json images = Json::object();
  for (const auto& [name, rec] : recs) images[name] = image_record_to_json(rec);
  Json j{{"version", 1}, {"images", images}};
  return write_file_atomic(images_path(root), j.dump(2) + "\n", 0644);
}

}  // namespace

Json image_record_to_json(const ImageRecord& r) {
  return Json{{"name", r.name},
              {"digest", r.digest},
              {"manifest_digest", r.manifest_digest},
              {"config_digest", r.config_digest},
              {"platform", r.platform},
              {"layers", r.layers},
              {"chain_ids", r.chain_ids},
              {"size", r.size},
              {"created", r.created},
              {"stored_at", r.stored_at}};
}

Result<ImageRecord> image_record_from_json(const Json& j) {
  try {
    ImageRecord r;
    r.name = j.at("name").get<std::string>();
    r.digest = j.at("digest").get<std::string>();
    r.manifest_digest = j.at("manifest_digest").get<std::string>();
    r.config_digest = j.at("config_digest").get<std::string>();
    r.platform = j.value("platform", "");
    r.layers = j.at("layers").get<std::vector<std::string>>();
    r.chain_ids = j.at("chain_ids").get<std::vector<std::string>>();
    r.size = j.value("size", int64_t{0});
    r.created = j.value("created", "");
    r.stored_at = j.value("stored_at", int64_t{0});
    return r;
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kInvalidArgument, std::string("image record: ") + e.what());
  }
}

Result<std::shared_ptr<ContentStore>> ContentStore::open(const std::string& root) {
  for (const char* sub : {"blobs/sha256", "ingest"}) {
    auto st = make_dirs(join_path(root, sub), 0700);
    if (!st.ok()) return std::move(st).error().with_context("open content store");
  }
  return std::shared_ptr<ContentStore>(new ContentStore(root));
}

Result<ContentStore::Lease> ContentStore::lease() {
  GANTRY_ASSIGN_OR_RETURN(UniqueFd fd, lock_file(join_path(root_, "gc.lock"), LOCK_SH));
  return Lease(std::move(fd));
}

Result<UniqueFd> ContentStore::lock_exclusive() {
  return lock_file(join_path(root_, "gc.lock"), LOCK_EX);
}

std::string ContentStore::blob_path(const Digest& d) const {
  return join_path(paths::blobs_dir(root_), d.hex);  // parse_digest admits only sha256
}

bool ContentStore::has(const Digest& d) const {
  struct stat st;
  return ::stat(blob_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::unique_ptr<BlobWriter>> ContentStore::begin(const Digest& expected, int64_t size) {
  if (has(expected)) return std::unique_ptr<BlobWriter>();
  std::string lock_path = join_path(root_, "ingest/" + expected.hex + ".lock");
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock, lock_file(lock_path, LOCK_EX));
  if (has(expected)) return std::unique_ptr<BlobWriter>();
  std::string temp = join_path(root_, "ingest/" + expected.hex + ".XXXXXX");
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("create " + q(temp));
  return std::unique_ptr<BlobWriter>(new FileBlobWriter(expected, size, blob_path(expected), temp,
                                                        UniqueFd(fd), lock_path, std::move(lock)));
}

Status ContentStore::put(const Digest& expected, std::string_view bytes) {
  GANTRY_ASSIGN_OR_RETURN(auto writer, begin(expected, static_cast<int64_t>(bytes.size())));
  if (!writer) return ok_status();
  GANTRY_TRY(writer->write(bytes));
  return writer->commit();
}

Result<Digest> ContentStore::put_new(std::string_view bytes) {
  Digest d{"sha256", sha256_hex(bytes)};
  GANTRY_TRY(put(d, bytes));
  return d;
}

Result<std::pair<UniqueFd, std::string>> ContentStore::create_temp() {
  std::string temp = join_path(root_, "ingest/new.XXXXXX");
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("create " + q(temp));
  return std::pair<UniqueFd, std::string>(UniqueFd(fd), temp);
}

Result<Digest> ContentStore::adopt(const std::string& temp_path) {
  auto hex = sha256_file_hex(temp_path);
  if (!hex.ok()) {
    ::unlink(temp_path.c_str());
    return std::move(hex).error();
  }
  Digest d{"sha256", *hex};
  if (::chmod(temp_path.c_str(), 0444) != 0 ||
      ::rename(temp_path.c_str(), blob_path(d).c_str()) != 0) {
    Error e = sys_error("store " + q(temp_path) + " as blob " + q(d.str()));
    ::unlink(temp_path.c_str());
    return e;
  }
  return d;
}

Result<int64_t> ContentStore::blob_size(const Digest& d) const {
  struct stat st;
  std::string p = blob_path(d);
  if (::stat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, "blob " + q(d.str()) + " not found");
    return sys_error("stat " + q(p));
  }
  return static_cast<int64_t>(st.st_size);
}

Result<std::string> ContentStore::read(const Digest& d, int64_t max_size) const {
  GANTRY_ASSIGN_OR_RETURN(int64_t size, blob_size(d));
  if (size > max_size)
    return Error(ErrorCode::kResourceExhausted, "blob " + q(d.str()) + ": " +
                                                    std::to_string(size) + " bytes, more than " +
                                                    std::to_string(max_size) + " allowed here");
  return read_file(blob_path(d));
}

Result<UniqueFd> ContentStore::open_blob(const Digest& d) const {
  std::string p = blob_path(d);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, "blob " + q(d.str()) + " not found");
    return sys_error("open " + q(p));
  }
  return fd;
}

Status ContentStore::remove(const Digest& d) {
  std::string p = blob_path(d);
  if (::unlink(p.c_str()) != 0) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, "blob " + q(d.str()) + " not found");
    return sys_error("remove " + q(p));
  }
  return ok_status();
}

Result<std::vector<Digest>> ContentStore::list_blobs() const {
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(paths::blobs_dir(root_)));
  std::vector<Digest> out;
  for (const auto& n : names) {
    auto d = parse_digest("sha256:" + n);
    if (d.ok()) out.push_back(*d);
  }
  return out;
}

Status ContentStore::put_image(const ImageRecord& record) {
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock, lock_file(join_path(root_, "images.lock"), LOCK_EX));
  GANTRY_ASSIGN_OR_RETURN(auto recs, load_records(root_));
  ImageRecord r = record;
  if (r.stored_at == 0) r.stored_at = static_cast<int64_t>(::time(nullptr));
  recs[r.name] = r;
  return save_records(root_, recs);
}

Result<ImageRecord> ContentStore::get_image(const std::string& name) const {
  GANTRY_ASSIGN_OR_RETURN(auto recs, load_records(root_));
  auto it = recs.find(name);
  if (it == recs.end()) return Error(ErrorCode::kNotFound, "image " + q(name) + " not found");
  return it->second;
}

Result<std::vector<ImageRecord>> ContentStore::list_images() const {
  GANTRY_ASSIGN_OR_RETURN(auto recs, load_records(root_));
  std::vector<ImageRecord> out;
  for (auto& [name, r] : recs) out.push_back(std::move(r));
  return out;
}

Status ContentStore::remove_image(const std::string& name) {
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock, lock_file(join_path(root_, "images.lock"), LOCK_EX));
  GANTRY_ASSIGN_OR_RETURN(auto recs, load_records(root_));
  if (recs.erase(name) == 0)
    return Error(ErrorCode::kNotFound, "image " + q(name) + " not found");
  return save_records(root_, recs);
}

}  // namespace gantry::runtime::image
