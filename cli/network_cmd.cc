// `gantry network ls|prune`: the bridge networks of this state root (agent/bridge_network.h).
// `ls` shows each network's bridge, subnet, NAT table and the pods holding addresses (dead
// pods' addresses are reclaimed on the way); `prune` removes the bridge, the nft table and the
// records of every network no pod uses, as `docker network prune` does.
#include <cstdio>
#include <memory>
#include <string>

#include "agent/bridge_network.h"
#include "cli/command.h"
#include "common/json.h"
#include "common/text_table.h"

namespace gantry::cli {

void setup_network_command(CLI::App& command, CommandContext& ctx) {
  command.require_subcommand(1);

  auto json = std::make_shared<bool>(false);
  CLI::App* ls = command.add_subcommand("ls", "List bridge networks and the pods on them");
  ls->add_flag("--json", *json, "Print a JSON array");
  ls->callback([&ctx, json] {
    auto nets = agent::list_bridge_networks(ctx.global.root);
    if (!nets.ok()) {
      ctx.exit_code = report_error(nets.error().with_context("network ls"));
      return;
    }
    if (*json) {
      Json out = Json::array();
      for (const auto& n : *nets) {
        Json pods = Json::array();
        for (const auto& a : n.allocations) {
          pods.push_back({{"pod", a.pod}, {"address", a.address}, {"veth", a.veth},
                          {"netns", a.netns_path}});
        }
        out.push_back({{"bridge", n.config.name},
                       {"subnet", n.config.subnet},
                       {"nft_table", n.config.nft_table},
                       {"present", n.bridge_present},
                       {"pods", pods}});
      }
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : *nets) {
      std::string pods;
      for (const auto& a : n.allocations) {
        pods += (pods.empty() ? "" : ", ") + a.pod + "=" + a.address;
      }
      rows.push_back({n.config.name, n.config.subnet, n.config.nft_table,
                      n.bridge_present ? "yes" : "no", pods.empty() ? "-" : pods});
    }
    std::fputs(format_table({"BRIDGE", "SUBNET", "NFT TABLE", "PRESENT", "PODS"}, rows).c_str(),
               stdout);
  });

  CLI::App* prune = command.add_subcommand(
      "prune", "Remove the bridge, nft table and records of every network no pod uses");
  prune->callback([&ctx] {
    auto removed = agent::prune_bridge_networks(ctx.global.root);
    if (!removed.ok()) {
      ctx.exit_code = report_error(removed.error().with_context("network prune"));
      return;
    }
    for (const auto& name : *removed) std::printf("%s\n", name.c_str());
  });
}

}  // namespace gantry::cli
