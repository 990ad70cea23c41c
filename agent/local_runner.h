// LocalRunner: drives a Scheduler with real concurrency — up to N job attempts at a time, each
// on its own thread through an AttemptRunner (in `gantry run`: the JobExecutor in a container),
// retries as the scheduler decides, delayed jobs started when their start_in has passed (while
// the rest of the pipeline goes on), and cancellation: when the caller's stop token fires, every
// waiting job is canceled, every running attempt gets its stop requested, and run() returns only
// after all of them have ended. Observer calls come from run()'s thread, one at a time.
// One LocalRunner runs one pipeline once; not thread-safe itself.
#pragma once

#include <cstddef>
#include <stop_token>
#include <vector>

#include "agent/scheduler.h"
#include "pipeline-schema/plan.h"

namespace gantry::agent {

// Runs one attempt of one job to its end. Called from a worker thread; several at once.
class AttemptRunner {
 public:
  virtual ~AttemptRunner() = default;
  // `attempt` is 1-based. When `stop` is requested the attempt must end soon with kCanceled,
  // having stopped and removed whatever it started.
  virtual AttemptOutcome run(const schema::PlannedJob& job, int attempt, std::stop_token stop) = 0;
};

// What happens during a run, for the user interface. Default: ignore.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void job_started(const ScheduledJob& job, int attempt) {}
  // `retrying`: the scheduler starts the job again.
  virtual void job_finished(const ScheduledJob& job, const AttemptOutcome& outcome, bool retrying,
                            double seconds) {}
  // The job became skipped or manual (or canceled before it started).
  virtual void job_not_run(const ScheduledJob& job) {}
  // A delayed job became scheduled: it starts in job.start_in_seconds, or now when `waits` is
  // false (the runner was told not to wait).
  virtual void job_scheduled(const ScheduledJob& job, bool waits) {}
  virtual void canceling() {}
};

class LocalRunner {
 public:
  // `parallelism` >= 1. All references must outlive the runner.
  LocalRunner(Scheduler& scheduler, AttemptRunner& runner, RunObserver& observer,
              size_t parallelism);

  // Delayed jobs start as soon as they are scheduled instead of after start_in (--no-delay).
  void set_start_delayed_at_once(bool at_once) { delayed_at_once_ = at_once; }

  // Runs the pipeline to its end, or until `stop` is requested (then cancels as above).
  void run(std::stop_token stop);

  // Wall time of each job's last attempt, by scheduler index (0 for jobs that did not run).
  const std::vector<double>& durations() const { return durations_; }
  bool canceled() const { return canceled_; }

 private:
  Scheduler& scheduler_;
  AttemptRunner& runner_;
  RunObserver& observer_;
  size_t parallelism_;
  std::vector<double> durations_;
  bool canceled_ = false;
  bool delayed_at_once_ = false;
};

}  // namespace gantry::agent
