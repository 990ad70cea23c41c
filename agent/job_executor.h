// JobExecutor: runs ONE job of a pipeline (a schema::JobSpec) in a container and reports a
// schema::JobResult, as GitLab's runner does. Shared by `gantry run` (local) and `gantry agent`;
// what differs between them is the JobEnvironment: where the sources, the artifacts and the log
// go. Phases, in order (see docs/running-jobs.md): workspace → image pull → services → restore
// cache → extract dependency artifacts → before_script+script → after_script → save cache →
// upload artifacts → result. run() may be called from several threads at once with distinct
// environments; LogSink and ArtifactStore implementations must then be thread-safe per object.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "agent/bridge_network.h"
#include "common/background_remover.h"
#include "common/result.h"
#include "pipeline-schema/job_spec.h"

namespace gantry::runtime::image {
struct PullOptions;  // runtime/image/puller.h
}

namespace gantry::agent {

class ContainerManager;  // agent/container_manager.h

// Receives the job's log: gantry's own section lines and the job's output (stdout and stderr in
// one ordered stream), already masked, in order, as byte chunks (not necessarily whole lines).
// write() is called by one executor thread at a time for a given job.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view chunk) = 0;
};

// Where a job's artifacts (one tar archive per job) are kept between jobs of a pipeline.
// Local: a directory per pipeline run (DirectoryArtifactStore, agent/artifact_store.h); agent:
// HTTP upload/download to the controller.
class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Stores the tar archive at `archive_path` (the caller keeps and later removes that file) as
  // the artifacts of `spec`'s job. Returns the opaque locator that later JobSpecs carry in
  // DependencyArtifacts::locator.
  virtual Result<std::string> put(const schema::JobSpec& spec, const std::string& archive_path) = 0;
  // Writes the archive of `dep` to `dest_path` (created or truncated). kNotFound when it is gone
  // (the job then fails with missing_dependency_failure).
  virtual Status get(const schema::DependencyArtifacts& dep, const std::string& dest_path) = 0;
};

enum class NetworkMode { kBridge, kNone, kHost };
std::string_view network_mode_name(NetworkMode m);  // "bridge", "none", "host"
Result<NetworkMode> parse_network_mode(std::string_view s);  // kInvalidArgument naming choices

// What the machine running the job provides. Pointers are borrowed for the duration of run().
struct JobEnvironment {
  // The source tree copied into the job's workspace. A git work tree is copied as its tracked
  // and untracked-not-ignored files plus .git; any other directory is copied whole.
  std::string source_dir;
  LogSink* log = nullptr;             // required
  ArtifactStore* artifacts = nullptr;  // required when the job has or downloads artifacts
  std::string cache_dir;   // where caches live across runs; empty: `cache:` is skipped (said so)
  // Parent of per-job workspaces (e.g. <state root>/builds); empty: $TMPDIR (or /tmp).
  std::string work_dir;
  // Deletes finished jobs' workspaces off the jobs' time; null: each job deletes its own before
  // it returns. Its owner outlives the jobs and finishes the removals before it goes.
  BackgroundRemover* remover = nullptr;
  ContainerManager* containers = nullptr;  // required: images, containers, networks
  // Registry options for pulls (auth, --insecure, --ca); null: defaults.
  const runtime::image::PullOptions* pull_options = nullptr;
  NetworkMode network = NetworkMode::kBridge;
  BridgeConfig bridge;  // kBridge: the bridge network (default gantry0, 10.89.0.0/16)
  std::string builds_dir = "/builds";  // CI_BUILDS_DIR inside the container
  // A canceled job's after_script gets its own bound (5 minutes); requesting `abort` ends it at
  // once, or skips it when it has not started (`gantry run`'s second Ctrl-C). Cleanup still
  // runs. Default: never requested.
  std::stop_token abort;
  // Called on the job's thread when a canceled job starts its after_script (`gantry run` says
  // how to cut it short). May be empty.
  std::function<void(const schema::JobSpec&)> on_canceled_after_script;
};

class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  // Runs the job to completion and returns its result; never throws. Every failure is a
  // JobResult (status failed, a GitLab failure reason and a message that also ends the log).
  // Requesting `stop` cancels: the job's containers are killed, cleanup still runs, status is
  // canceled. Nothing the job made is left behind (workspace, containers, network) unless the
  // caller asked to keep the workspace.
  virtual schema::JobResult run(const schema::JobSpec& spec, JobEnvironment& env,
                                std::stop_token stop) = 0;
};

struct ContainerJobExecutorOptions {
  bool keep_workspace = false;  // debugging: leave the job's workspace copy on disk
  // The after_script timeout (GitLab: 5 minutes), and the default job timeout (GitLab: 1 hour)
  // when neither the job nor the spec sets one.
  std::int64_t after_script_timeout_seconds = 300;
  std::int64_t default_timeout_seconds = 3600;
  // How long services may take to open their ports (GitLab's wait_for_services_timeout) when
  // the JobSpec does not say.
  std::int64_t service_wait_timeout_seconds = 30;
};

// The implementation: one container per job through the ContainerManager.
std::unique_ptr<JobExecutor> make_container_job_executor(ContainerJobExecutorOptions options = {});

}  // namespace gantry::agent
