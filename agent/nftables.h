// NAT for bridge networks through nftables: one table of Gantry's own per bridge network
// (`ip gantry` for the default one) with a postrouting chain that masquerades the subnet's
// traffic leaving by any other interface, as Docker's MASQUERADE rule does. The ruleset is
// rendered here (PURE) and applied atomically by the `nft` program (nftables package) through
// Boost.Process; speaking nf_tables netlink directly was not worth its size for two rules.
// Thread-safe: no state; nft transactions are atomic.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry::agent {

// The `nft -f` script that (re)creates table `ip <table>` with the masquerade rule for `subnet`
// (CIDR) leaving by any interface but `bridge`. Replacing the whole table in one transaction
// makes it idempotent and leaves no window without the rule.
std::string render_nat_ruleset(std::string_view table, std::string_view bridge,
                               std::string_view subnet);
// The script that deletes table `ip <table>`, and succeeds when there is none.
std::string render_delete_table(std::string_view table);

// Runs `nft -f -` with `script`. kUnavailable when nft is not installed; otherwise nft's own
// message ("Error: Could not process rule: No such file or directory ...").
Status apply_nft(const std::string& script, std::string_view what);

// Checks a table name (letters, digits, '_', '-' and '.', starting with a letter).
Status check_nft_table_name(std::string_view table);

}  // namespace gantry::agent
