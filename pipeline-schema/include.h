// `include:` expansion, as GitLab does it: the files named by `include:` (local files of the
// project, relative to its root, with `*`/`**` wildcards, nested includes) are deep-merged under
// the including file, whose own keys win; later includes win over earlier ones. A file included
// twice is loaded once; an include loop is an error naming the chain. Remote, project, template
// and component includes get a "not supported" error at their line. PURE over ProjectFiles.
#pragma once

#include <string>
#include <vector>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/node.h"
#include "pipeline-schema/project_files.h"

namespace gantry::schema {

// GitLab's default limit on included files per pipeline.
inline constexpr int kMaxIncludes = 150;

// Returns `root` (the parsed `file`) with every include merged in and the `include` key
// removed. `loaded` receives each included file once, in load order.
Node expand_includes(Node root, const std::string& file, const ProjectFiles& files,
                     Diagnostics& diags, std::vector<std::string>* loaded = nullptr);

}  // namespace gantry::schema
