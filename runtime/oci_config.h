// OCI config.json <-> ContainerSpec. `gantry runtime create/run` read a bundle's config.json
// through load_oci_config(); Gantry's own callers build a ContainerSpec and write it out with
// to_oci_config(). Errors name the file and the field path:
//   "config.json: linux.namespaces[2].type: unknown namespace 'foo'".
// Unknown fields are ignored as the runtime spec says; known fields Gantry cannot honour
// (intelRdt, AppArmor, SELinux, systemd cgroup paths, ...) are errors, never silently dropped.
// Pure functions over JSON except load_oci_config(), which also checks the host paths.
#pragma once

#include <string>
#include <string_view>

#include "common/json.h"
#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

// Annotations that carry ContainerSpec fields the OCI spec has no place for. Gantry's own
// callers set them through to_oci_config(); parse_oci_config() moves them back into the spec.
inline constexpr std::string_view kAnnotationHostsFile = "io.gantry.hosts-file";
inline constexpr std::string_view kAnnotationResolvConf = "io.gantry.resolv-conf";
// Overlay root: ':'-separated lower dirs, lowest layer first; upper and work dirs.
inline constexpr std::string_view kAnnotationOverlayLower = "io.gantry.rootfs.overlay.lower";
inline constexpr std::string_view kAnnotationOverlayUpper = "io.gantry.rootfs.overlay.upper";
inline constexpr std::string_view kAnnotationOverlayWork = "io.gantry.rootfs.overlay.work";
// "true": pid 1 is Gantry's reaper, the process its child (ContainerSpec::init_reaper).
inline constexpr std::string_view kAnnotationInit = "io.gantry.init";
// "true": the upper dir is thrown away with the container (Root::overlay_volatile).
inline constexpr std::string_view kAnnotationOverlayVolatile = "io.gantry.rootfs.overlay.volatile";

// Turns a parsed config.json into a ContainerSpec. `bundle` is the absolute bundle directory;
// a relative root.path is resolved against it. `source` names the document in errors.
// Errors are kInvalidArgument (malformed) or kUnimplemented (valid but unsupported).
Result<ContainerSpec> parse_oci_config(const Json& config, const std::string& bundle,
                                       std::string_view source = "config.json");

// A `process` object alone (what `runtime exec --process FILE` reads), checked as in a config:
// errors name `source` and the field ("process.json: process.args: required").
Result<Process> parse_oci_process(const Json& process, std::string_view source);

// Reads `<bundle>/config.json`, parses it, and checks that what it names on the host exists:
// the root directory, bind-mount sources, hook programs. `bundle` may be relative; the spec's
// bundle field is made absolute.
Result<ContainerSpec> load_oci_config(const std::string& bundle);

// The config.json for `spec` (OCI runtime spec 1.0.2 shape). root.path is written as given.
Json to_oci_config(const ContainerSpec& spec);

Result<NamespaceType> parse_namespace_type(std::string_view name);

}  // namespace gantry::runtime
