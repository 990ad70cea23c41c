#include "agent/nftables.h"

#include <cctype>

#include "common/subprocess.h"

namespace gantry::agent {

std::string render_nat_ruleset(std::string_view table, std::string_view bridge,
                               std::string_view subnet) {
  std::string t(table), b(bridge), s(subnet);
  return "add table ip " + t + "\n" +
         "delete table ip " + t + "\n" +
         "table ip " + t + " {\n" +
         "  chain postrouting {\n" +
         "    type nat hook postrouting priority srcnat; policy accept;\n" +
         "    ip saddr " + s + " oifname != \"" + b + "\" masquerade\n" +
         "  }\n" +
         "}\n";
}

std::string render_delete_table(std::string_view table) {
  std::string t(table);
  return "add table ip " + t + "\ndelete table ip " + t + "\n";
}

Status apply_nft(const std::string& script, std::string_view what) {
  SubprocessOptions o;
  o.stdin_data = script;
  o.merge_stderr = true;
  o.timeout = std::chrono::seconds(30);
  auto r = run_subprocess({"nft", "-f", "-"}, o);
  if (!r.ok()) {
    return Error(ErrorCode::kUnavailable,
                 std::string(what) + ": cannot run 'nft' (install the nftables package): " +
                     r.error().message());
  }
  if (r->exit_code != 0 || r->term_signal != 0) {
    std::string out = r->out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return Error(ErrorCode::kIo, std::string(what) + ": nft failed (exit " +
                                     std::to_string(r->exit_code) + "): " + out);
  }
  return ok_status();
}

Status check_nft_table_name(std::string_view table) {
  bool ok =
      !table.empty() && table.size() <= 64 && std::isalpha(static_cast<unsigned char>(table[0]));
  for (char c : table) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      ok = false;
  }
  if (!ok) {
    return Error(ErrorCode::kInvalidArgument,
                 "nft table '" + std::string(table) +
                     "': want letters, digits, '_', '-' or '.', starting with a letter");
  }
  return ok_status();
}

}  // namespace gantry::agent
