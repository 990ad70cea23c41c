// Readers for GitLab's compound keyword values (image, services, artifacts, cache, retry,
// allow_failure, environment, inherit, parallel, needs, rules, only/except): each takes a Node,
// checks every key and type against GitLab's reference, reports problems through the Reader and
// returns the typed value (nullopt when the value is unusable). PURE; not thread-safe (Reader).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "pipeline-schema/keywords/reader.h"
#include "pipeline-schema/node.h"
#include "pipeline-schema/pipeline.h"

namespace gantry::schema::keywords {

std::optional<Image> read_image(Reader& r, const Node& n, std::string_view path);
std::optional<std::vector<Service>> read_services(Reader& r, const Node& n, std::string_view path);
std::optional<Artifacts> read_artifacts(Reader& r, const Node& n, std::string_view path,
                                        std::vector<SkippedKeyword>* skipped);
// A map or a list of up to 4 maps.
std::optional<std::vector<Cache>> read_cache(Reader& r, const Node& n, std::string_view path);
std::optional<Retry> read_retry(Reader& r, const Node& n, std::string_view path);
std::optional<AllowFailure> read_allow_failure(Reader& r, const Node& n, std::string_view path);
std::optional<Environment> read_environment(Reader& r, const Node& n, std::string_view path,
                                            std::vector<SkippedKeyword>* skipped);
std::optional<Inherit> read_inherit(Reader& r, const Node& n, std::string_view path);
std::optional<Parallel> read_parallel(Reader& r, const Node& n, std::string_view path);
std::optional<std::vector<Need>> read_needs(Reader& r, const Node& n, std::string_view path,
                                            std::vector<SkippedKeyword>* skipped);
// Job rules, or `workflow:rules` when `workflow` (when: always/never only).
std::optional<std::vector<Rule>> read_rules(Reader& r, const Node& n, std::string_view path,
                                            bool workflow);
std::optional<RefFilter> read_ref_filter(Reader& r, const Node& n, std::string_view path);
std::optional<Changes> read_changes(Reader& r, const Node& n, std::string_view path);
std::optional<Exists> read_exists(Reader& r, const Node& n, std::string_view path);

}  // namespace gantry::schema::keywords
