// The `gantry image` group: local image commands (ls, inspect, rm, prune, import, load) over
// the image store under --root. Each subcommand is one row of the table in image_cmd.cc; a new
// one (e.g. `pull`, in its own file) adds a row there and declares its setup function here.
#pragma once

#include <memory>

#include "cli/command.h"
#include "common/json.h"
#include "runtime/image/image_store.h"

namespace gantry::cli {

// The image store under ctx.global.root; unpacks keep owners and devices when run as root.
Result<std::shared_ptr<runtime::image::ImageStore>> open_image_store(const CommandContext& ctx);

// `--platform` value → Platform ("" → the host's).
Result<runtime::image::Platform> platform_option(const std::string& text);

void setup_image_ls_command(CLI::App& command, CommandContext& ctx);
void setup_image_inspect_command(CLI::App& command, CommandContext& ctx);
void setup_image_rm_command(CLI::App& command, CommandContext& ctx);
void setup_image_prune_command(CLI::App& command, CommandContext& ctx);
void setup_image_import_command(CLI::App& command, CommandContext& ctx);
void setup_image_load_command(CLI::App& command, CommandContext& ctx);
void setup_image_pull_command(CLI::App& command, CommandContext& ctx);  // image_pull_cmd.cc

}  // namespace gantry::cli
