#include "runtime/seccomp/cache.h"

#include <linux/filter.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "common/hex.h"
#include "common/file.h"
#include "common/json.h"
#include "common/scratch_file.h"

namespace gantry::runtime {
namespace {

// Bump when the entry format or the meaning of a key changes.
constexpr int kCacheFormat = 1;

uint64_t fnv1a64(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Error corrupt(std::string_view why) {
  return Error(ErrorCode::kInvalidArgument, "seccomp cache entry: " + std::string(why));
}

Result<std::vector<std::string>> string_list(const Json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_array()) return corrupt(std::string(field) + " missing");
  std::vector<std::string> out;
  for (const auto& e : j[field]) {
    if (!e.is_string()) return corrupt(std::string(field) + " holds a non-string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

std::string seccomp_cache_key(const SeccompProfile& profile, std::string_view environment) {
  Json rules = Json::array();
  for (const auto& r : profile.rules) {
    Json conds = Json::array();
    for (const auto& c : r.conditions) {
      conds.push_back({c.index, static_cast<int>(c.op), c.value, c.value_two});
    }
    rules.push_back({static_cast<int>(r.action.kind), r.action.value, r.names, conds});
  }
  Json key{
      {"format", kCacheFormat},
      {"environment", environment},
      {"default", {static_cast<int>(profile.default_action.kind), profile.default_action.value}},
      {"architectures", profile.architectures},
      {"flags", profile.flags},
      {"rules", rules}};
  return key.dump();
}

std::string seccomp_cache_file_name(std::string_view key) {
  return hex64(fnv1a64(key.data(), key.size())) + ".json";
}

std::string encode_seccomp_cache_entry(std::string_view key, const CompiledSeccomp& compiled) {
  size_t bytes = compiled.program.size() * sizeof(sock_filter);
  Json j{{"key", key},
         {"flags", compiled.flags},
         {"program", to_hex(reinterpret_cast<const uint8_t*>(compiled.program.data()), bytes)},
         {"program_fnv", hex64(fnv1a64(compiled.program.data(), bytes))},
         {"skipped_syscalls", compiled.skipped_syscalls},
         {"skipped_architectures", compiled.skipped_architectures}};
  return j.dump();
}

Result<CompiledSeccomp> decode_seccomp_cache_entry(std::string_view data, std::string_view key) {
  auto parsed = parse_json(data, "seccomp cache entry");
  if (!parsed.ok()) return corrupt(parsed.error().message());
  const Json& j = *parsed;
  if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) return corrupt("no key");
  if (j["key"].get_ref<const std::string&>() != key) {
    return Error(ErrorCode::kNotFound, "seccomp cache entry: holds another profile");
  }
  if (!j.contains("flags") || !j["flags"].is_number_unsigned()) return corrupt("no flags");
  if (!j.contains("program") || !j["program"].is_string()) return corrupt("no program");
  if (!j.contains("program_fnv") || !j["program_fnv"].is_string()) return corrupt("no checksum");
  const std::string& hex = j["program"].get_ref<const std::string&>();
  constexpr size_t kInsnHex = 2 * sizeof(sock_filter);
  if (hex.empty() || hex.size() % kInsnHex != 0 || hex.size() / kInsnHex > BPF_MAXINSNS) {
    return corrupt("program of " + std::to_string(hex.size()) + " hex digits");
  }
  CompiledSeccomp out;
  out.program.resize(hex.size() / kInsnHex);
  size_t bytes = out.program.size() * sizeof(sock_filter);
  if (!from_hex(hex, reinterpret_cast<uint8_t*>(out.program.data()), bytes)) {
    return corrupt("program is not hex");
  }
  if (hex64(fnv1a64(out.program.data(), bytes)) != j["program_fnv"].get<std::string>()) {
    return corrupt("program checksum mismatch");
  }
  uint64_t flags = j["flags"].get<uint64_t>();
  if (flags > UINT32_MAX) return corrupt("flags out of range");
  out.flags = static_cast<uint32_t>(flags);
  GANTRY_ASSIGN_OR_RETURN(out.skipped_syscalls, string_list(j, "skipped_syscalls"));
  GANTRY_ASSIGN_OR_RETURN(out.skipped_architectures, string_list(j, "skipped_architectures"));
  return out;
}

Result<CachedSeccomp> compile_seccomp_cached(const Seccomp& seccomp, const std::string& cache_dir) {
  GANTRY_ASSIGN_OR_RETURN(SeccompProfile profile, validate_seccomp(seccomp));
  std::string key = seccomp_cache_key(profile, seccomp_environment());
  std::string path = join_path(cache_dir, seccomp_cache_file_name(key));

  CachedSeccomp out;
  auto text = read_file(path);
  if (text.ok()) {
    auto decoded = decode_seccomp_cache_entry(*text, key);
    if (decoded.ok()) {
      out.compiled = std::move(*decoded);
      out.outcome = SeccompCacheOutcome::kHit;
      return out;
    }
    out.outcome = SeccompCacheOutcome::kRebuilt;
  }
  GANTRY_ASSIGN_OR_RETURN(out.compiled, compile_seccomp(profile));
  Status stored = make_dirs(cache_dir, 0700);
  if (stored.ok()) {
    // Scratch: a file torn by a crash fails its checks and is rebuilt.
    stored = write_scratch_file(path, encode_seccomp_cache_entry(key, out.compiled), 0600);
  }
  if (!stored.ok()) out.store_error = stored.error().message();
  return out;
}

}  // namespace gantry::runtime
