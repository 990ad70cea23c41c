#include "runtime/oci_cli/args.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <tuple>
#include <optional>

namespace gantry::runtime::oci_cli {

namespace {

struct SignalName {
  const char* name;  // without "SIG"
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},   {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Status validate_container_id(std::string_view id) {
  auto bad = [&](std::string_view why) {
    std::string shown(id.substr(0, 64));
    if (id.size() > 64) shown += "...";
    return Error(ErrorCode::kInvalidArgument,
                 "invalid container id '" + shown + "': " + std::string(why));
  };
  if (id.empty()) return Error(ErrorCode::kInvalidArgument, "invalid container id: empty");
  if (id.size() > kMaxContainerIdLength) return bad("longer than 1024 characters");
  if (!std::isalnum(static_cast<unsigned char>(id[0]))) {
    return bad("must start with a letter or digit");
  }
  for (char c : id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '_' || c == '.' || c == '-')) {
      return bad("only letters, digits, '_', '.' and '-' are allowed");
    }
  }
  return ok_status();
}

Result<int> parse_signal(std::string_view text) {
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument, "invalid signal '" + std::string(text) + "'");
  };
  if (text.empty()) return bad();
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    auto n = parse_int(text);
    if (!n || *n <= 0 || *n > SIGRTMAX) return bad();
    return *n;
  }
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& s : kSignals) {
    if (name == s.name) return s.number;
  }
  for (auto [prefix, base, sign] :
       {std::tuple{"RTMIN", SIGRTMIN, 1}, std::tuple{"RTMAX", SIGRTMAX, -1}}) {
    std::string_view p(prefix);
    if (name.rfind(p, 0) != 0) continue;
    std::string_view rest = std::string_view(name).substr(p.size());
    if (rest.empty()) return base;
    if ((sign > 0 && rest[0] != '+') || (sign < 0 && rest[0] != '-')) return bad();
    auto off = parse_int(rest.substr(1));
    if (!off) return bad();
    int n = base + sign * *off;
    if (n < SIGRTMIN || n > SIGRTMAX) return bad();
    return n;
  }
  return bad();
}

std::string signal_name(int signal) {
  for (const auto& s : kSignals) {
    if (s.number == signal && std::string_view(s.name) != "IOT" &&
        std::string_view(s.name) != "POLL") {
      return std::string("SIG") + s.name;
    }
  }
  return "SIG" + std::to_string(signal);
}

Result<UserSpec> parse_user(std::string_view text) {
  auto bad = [&] {
    return Error(ErrorCode::kInvalidArgument,
                 "invalid user '" + std::string(text) + "': want UID or UID:GID");
  };
  UserSpec user;
  size_t colon = text.find(':');
  auto uid = parse_u32(text.substr(0, colon));
  if (!uid) return bad();
  user.uid = *uid;
  if (colon != std::string_view::npos) {
    auto gid = parse_u32(text.substr(colon + 1));
    if (!gid) return bad();
    user.gid = *gid;
  }
  return user;
}

}  // namespace gantry::runtime::oci_cli
