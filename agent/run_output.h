// What `gantry run` shows: the live output of all jobs as lines prefixed with the job's name
// (padded to the longest name, one colour per job on a terminal, plain and without the log's
// ANSI colours otherwise) and the summary table that ends a run. PrefixedOutput is thread-safe
// (one mutex around every write); a job's partial line waits for its newline or end_job().
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::agent {

class PrefixedOutput {
 public:
  using Writer = std::function<void(std::string_view)>;
  // `job_names` sets the padding and the colour of each job (by position).
  PrefixedOutput(Writer out, const std::vector<std::string>& job_names, bool color);

  // Output of `job`, any chunking. Complete lines are written at once, each with the prefix.
  void write(std::string_view job, std::string_view bytes);
  // Writes what is left of `job`'s last line, if anything.
  void end_job(std::string_view job);
  // One line of gantry's own about `job` (started, finished, skipped), prefixed likewise.
  void note(std::string_view job, std::string_view line);
  // One line not about a job.
  void message(std::string_view line);

 private:
  std::string prefix(std::string_view job) const;
  void emit_line(std::string_view job, std::string_view line);

  Writer out_;
  bool color_;
  size_t width_ = 0;
  std::map<std::string, int, std::less<>> colour_of_;
  std::map<std::string, std::string, std::less<>> partial_;
  std::mutex mu_;
};

// Removes ANSI escape sequences (CSI "ESC [ ... letter" and OSC "ESC ] ... BEL").
std::string strip_ansi(std::string_view s);

struct SummaryRow {
  std::string job;
  std::string stage;
  std::string status;             // "success", "failed (allowed)", "manual", ...
  std::optional<double> seconds;  // none: did not run
  std::string note;               // failure reason, exit code, attempts, why skipped
};

// The aligned table: "job  stage  status  duration  note" with a header line.
std::string render_summary(const std::vector<SummaryRow>& rows);

// "420ms", "1.42s", "12.3s", "2m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace gantry::agent
