#include "runtime/image/run_spec.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "runtime/image/run_config.h"

namespace gantry::runtime::image {

namespace {

constexpr uint64_t kCpuPeriod = 100000;  // Docker's and the kernel's default, in microseconds
constexpr int64_t kMinCpuQuota = 1000;   // the kernel refuses less than 1 ms

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

Error bad(std::string_view option, std::string_view value, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument,
               std::string(option) + " " + q(value) + ": " + std::string(why));
}

// "12.345" → (12345, 3 decimals). nullopt unless digits with at most one '.'.
struct Decimal {
  uint64_t digits = 0;
  int decimals = 0;
};
std::optional<Decimal> parse_decimal(std::string_view s) {
  Decimal d;
  bool dot = false, any = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (d.digits > (std::numeric_limits<uint64_t>::max() - 9) / 10) return std::nullopt;
    d.digits = d.digits * 10 + static_cast<uint64_t>(c - '0');
    if (dot) ++d.decimals;
    any = true;
  }
  if (!any) return std::nullopt;
  return d;
}

uint64_t pow10(int n) {
  uint64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

bool is_absolute_clean(std::string_view p) {
  if (p.empty() || p.front() != '/') return false;
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<int64_t> parse_memory_size(std::string_view text) {
  constexpr std::string_view kOpt = "memory size";
  std::string_view num = text;
  uint64_t unit = 1;
  if (!num.empty() && (num.back() == 'b' || num.back() == 'B')) num.remove_suffix(1);
  if (!num.empty()) {
    switch (std::tolower(static_cast<unsigned char>(num.back()))) {
      case 'k': unit = 1ULL << 10; break;
      case 'm': unit = 1ULL << 20; break;
      case 'g': unit = 1ULL << 30; break;
      case 't': unit = 1ULL << 40; break;
      default: unit = 0;
    }
    if (unit != 0) num.remove_suffix(1);
    else unit = 1;
  }
  auto d = parse_decimal(num);
  if (!d)
    return bad(kOpt, text, "expected a number with an optional unit b, k, m, g or t (e.g. 512m)");
  if (d->decimals > 6) return bad(kOpt, text, "too many decimals");
  // bytes = digits * unit / 10^decimals, computed without losing precision or overflowing.
  long double bytes = static_cast<long double>(d->digits) * static_cast<long double>(unit) /
                      static_cast<long double>(pow10(d->decimals));
  if (bytes >= static_cast<long double>(std::numeric_limits<int64_t>::max()))
    return bad(kOpt, text, "too large");
  auto value = static_cast<int64_t>(bytes);
  if (value <= 0) return bad(kOpt, text, "must be at least one byte");
  return value;
}

Result<CpuLimit> parse_cpus(std::string_view text) {
  constexpr std::string_view kOpt = "cpus";
  auto d = parse_decimal(text);
  if (!d) return bad(kOpt, text, "expected a positive decimal number of CPUs (e.g. 1.5)");
  if (d->decimals > 5) return bad(kOpt, text, "at most 5 decimals");
  // quota = cpus * period, exact since period is 10^5 and decimals <= 5.
  uint64_t scale = kCpuPeriod / pow10(d->decimals);
  if (d->digits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / scale)
    return bad(kOpt, text, "too large");
  auto quota = static_cast<int64_t>(d->digits * scale);
  if (quota < kMinCpuQuota) return bad(kOpt, text, "must be at least 0.01");
  return CpuLimit{quota, kCpuPeriod};
}

Result<Volume> parse_volume(std::string_view text) {
  constexpr std::string_view kOpt = "volume";
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t i = text.find(':', start);
    parts.push_back(text.substr(start, i == std::string_view::npos ? i : i - start));
    if (i == std::string_view::npos) break;
    start = i + 1;
  }
  if (parts.size() < 2 || parts.size() > 3)
    return bad(kOpt, text, "expected SRC:DST or SRC:DST:ro|rw");
  Volume v;
  v.source = std::string(parts[0]);
  v.destination = std::string(parts[1]);
  if (parts.size() == 3) {
    if (parts[2] == "ro") v.readonly = true;
    else if (parts[2] != "rw")
      return bad(kOpt, text, "unknown mode " + q(parts[2]) + " (expected ro or rw)");
  }
  if (!is_absolute_clean(v.source))
    return bad(kOpt, text, "source " + q(v.source) + " must be an absolute path without '..'");
  if (!is_absolute_clean(v.destination))
    return bad(kOpt, text,
               "destination " + q(v.destination) + " must be an absolute path without '..'");
  if (v.destination.find_first_not_of('/') == std::string::npos)
    return bad(kOpt, text, "cannot mount over the container's root '/'");
  return v;
}

Result<NetworkMode> parse_network(std::string_view text) {
  if (text == "none") return NetworkMode::kNone;
  if (text == "host") return NetworkMode::kHost;
  return bad("network", text, "expected none or host");
}

Result<ContainerSpec> make_run_spec(ContainerSpec spec, const ImageConfig& config,
                                    const ContainerRunOptions& options, const RunRootfs& rootfs,
                                    std::string_view passwd, std::string_view group) {
  RunOverrides overrides;
  overrides.entrypoint = options.entrypoint;
  overrides.cmd = options.cmd;
  overrides.env = options.env;
  overrides.working_dir = options.working_dir;
  overrides.user = options.user;
  GANTRY_ASSIGN_OR_RETURN(RunConfig run, resolve_run_config(config, overrides));
  auto user = resolve_user(run.user, passwd, group);
  if (!user.ok()) return std::move(user).error().with_context("user of the container");
  // The base spec's env (e.g. TERM) stays unless the image or the user sets the same key.
  std::vector<std::string> env = spec.process.env;
  apply_run_config(run, *user, spec.process);
  for (const auto& kv : env) {
    auto key = std::string_view(kv).substr(0, kv.find('='));
    bool set = std::any_of(spec.process.env.begin(), spec.process.env.end(),
                           [&](const std::string& e) {
                             return std::string_view(e).substr(0, e.find('=')) == key;
                           });
    if (!set) spec.process.env.push_back(kv);
  }

  spec.root.path = rootfs.rootfs;
  spec.root.readonly = false;  // writes go to the container's own upper dir
  spec.root.overlay_lower = rootfs.lower_dirs;
  spec.root.overlay_upper = rootfs.upper;
  spec.root.overlay_work = rootfs.work;
  // Each container gets a fresh upper dir, removed with it: nothing to sync.
  spec.root.overlay_volatile = true;
  if (!options.hostname.empty()) spec.hostname = options.hostname;
  spec.init_reaper = options.init;

  for (const auto& v : options.volumes) {
    spec.mounts.push_back(Mount{v.destination, "bind", v.source,
                                {"rbind", "nosuid", "nodev", v.readonly ? "ro" : "rw"}});
  }

  std::erase_if(spec.namespaces,
                [](const NamespaceSpec& ns) { return ns.type == NamespaceType::kNetwork; });
  if (options.network == NetworkMode::kNone)
    spec.namespaces.push_back({NamespaceType::kNetwork, ""});

  // Swap is left at the host's setting: memory+swap limits only exist with swap accounting on,
  // and the cgroup managers already run on hosts without it.
  if (options.memory_bytes) spec.resources.memory_limit = *options.memory_bytes;
  if (options.cpus) {
    spec.resources.cpu_quota = options.cpus->quota;
    spec.resources.cpu_period = options.cpus->period;
  }
  if (options.pids_limit) {
    if (*options.pids_limit <= 0)
      return Error(ErrorCode::kInvalidArgument,
                   "pids-limit '" + std::to_string(*options.pids_limit) + "': must be positive");
    spec.resources.pids_limit = *options.pids_limit;
  }
  return spec;
}

}  // namespace gantry::runtime::image
