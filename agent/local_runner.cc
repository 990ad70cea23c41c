#include "agent/local_runner.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "common/logging.h"

namespace gantry::agent {

LocalRunner::LocalRunner(Scheduler& scheduler, AttemptRunner& runner, RunObserver& observer,
                         size_t parallelism)
    : scheduler_(scheduler),
      runner_(runner),
      observer_(observer),
      parallelism_(parallelism == 0 ? 1 : parallelism),
      durations_(scheduler.jobs().size(), 0.0) {}

void LocalRunner::run(std::stop_token stop) {
  struct Done {
    size_t index;
    AttemptOutcome outcome;
    double seconds;
  };
  std::mutex mu;
  std::condition_variable_any cv;
  std::deque<Done> done;
  std::deque<size_t> queue;
  std::stop_source workers_stop;
  std::list<std::jthread> workers;
  size_t running = 0;

  // Reports jobs that became skipped/manual since the last look.
  std::vector<JobState> seen(scheduler_.jobs().size(), JobState::kCreated);
  auto report_not_run = [&] {
    for (size_t i = 0; i < seen.size(); ++i) {
      JobState now = scheduler_.jobs()[i].state;
      if (now == seen[i]) continue;
      if ((now == JobState::kSkipped || now == JobState::kManual || now == JobState::kCanceled) &&
          seen[i] != JobState::kRunning) {
        observer_.job_not_run(scheduler_.jobs()[i]);
      }
      seen[i] = now;
    }
  };
  // Delayed jobs waiting out their start_in: scheduler index → when they start.
  using Clock = std::chrono::steady_clock;
  std::map<size_t, Clock::time_point> timers;
  auto enqueue_ready = [&] {
    for (size_t i : scheduler_.advance()) queue.push_back(i);
    for (size_t i = 0; i < seen.size(); ++i) {
      const ScheduledJob& j = scheduler_.jobs()[i];
      if (j.state != JobState::kScheduled || seen[i] == JobState::kScheduled) continue;
      seen[i] = JobState::kScheduled;
      observer_.job_scheduled(j, !delayed_at_once_);
      if (delayed_at_once_ || j.start_in_seconds <= 0) {
        scheduler_.start_scheduled(i);
        seen[i] = JobState::kPending;
        queue.push_back(i);
      } else {
        timers[i] = Clock::now() + std::chrono::seconds(j.start_in_seconds);
      }
    }
    report_not_run();
  };
  // Scheduled jobs whose time has come become pending.
  auto start_due = [&] {
    auto now = Clock::now();
    for (auto it = timers.begin(); it != timers.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      scheduler_.start_scheduled(it->first);
      seen[it->first] = JobState::kPending;
      queue.push_back(it->first);
      it = timers.erase(it);
    }
  };

  enqueue_ready();
  std::unique_lock lock(mu);
  for (;;) {
    if (stop.stop_requested() && !canceled_) {
      canceled_ = true;
      observer_.canceling();
      scheduler_.cancel();
      queue.clear();
      timers.clear();
      workers_stop.request_stop();
      report_not_run();
    }
    if (!canceled_) start_due();
    while (!canceled_ && running < parallelism_ && !queue.empty()) {
      size_t index = queue.front();
      queue.pop_front();
      scheduler_.mark_running(index);
      seen[index] = JobState::kRunning;
      const ScheduledJob& job = scheduler_.jobs()[index];
      observer_.job_started(job, job.attempts);
      ++running;
      workers.emplace_back([this, &mu, &cv, &done, index, attempt = job.attempts,
                            token = workers_stop.get_token(), planned = job.job] {
        auto start = std::chrono::steady_clock::now();
        AttemptOutcome outcome;
        try {
          outcome = runner_.run(*planned, attempt, token);
        } catch (const std::exception& e) {
          logger("scheduler")->error("job attempt threw job={} error={}", planned->name, e.what());
          outcome = {AttemptOutcome::Kind::kFailed, "runner_system_failure", std::nullopt};
        }
        if (token.stop_requested() && outcome.kind != AttemptOutcome::Kind::kSuccess) {
          outcome.kind = AttemptOutcome::Kind::kCanceled;
          outcome.failure_reason = "canceled";
        }
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::lock_guard g(mu);
        done.push_back({index, std::move(outcome), seconds});
        cv.notify_all();
      });
    }
    if (running == 0 && (canceled_ || (queue.empty() && timers.empty()))) break;
    if (canceled_) {
      cv.wait(lock, [&] { return !done.empty(); });
    } else if (!timers.empty()) {
      auto next = timers.begin()->second;
      for (const auto& [i, at] : timers) next = std::min(next, at);
      cv.wait_until(lock, stop, next, [&] { return !done.empty(); });
    } else {
      cv.wait(lock, stop, [&] { return !done.empty(); });
    }
    while (!done.empty()) {
      Done d = std::move(done.front());
      done.pop_front();
      --running;
      durations_[d.index] = d.seconds;
      bool retry = scheduler_.record(d.index, d.outcome);
      seen[d.index] = scheduler_.jobs()[d.index].state;
      observer_.job_finished(scheduler_.jobs()[d.index], d.outcome, retry, d.seconds);
      if (retry) queue.push_back(d.index);
      enqueue_ready();
    }
  }
  lock.unlock();
  workers.clear();  // all have pushed their result; joins them
}

}  // namespace gantry::agent
