// Glob matching of project paths as GitLab does it for `rules:changes`, `rules:exists` and
// `only/except:changes` (Ruby's File.fnmatch with FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB):
// `*` and `?` stay within one path segment, `**/` spans any number of directories, `[a-z]`
// and `[!a]` are classes, `{a,b}` alternatives. Paths are relative, '/'-separated. PURE.
#pragma once

#include <string_view>

namespace gantry::schema {

bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace gantry::schema
