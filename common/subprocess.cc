#include "common/subprocess.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <csignal>
#include <future>

namespace gantry {

namespace bp = boost::process;

Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const SubprocessOptions& options) {
  if (argv.empty()) return Error(ErrorCode::kInvalidArgument, "run: empty command line");
  std::string exe = argv[0];
  if (exe.find('/') == std::string::npos) {
    auto found = bp::search_path(exe);
    if (found.empty())
      return Error(ErrorCode::kNotFound, "run '" + exe + "': not found in PATH");
    exe = found.string();
  }
  std::vector<std::string> args(argv.begin() + 1, argv.end());

  bp::environment env = boost::this_process::environment();
  if (options.env) {
    env.clear();
    for (const auto& [k, v] : *options.env) env[k] = v;
  }
  try {
    boost::asio::io_context ios;
    std::future<std::string> out_f, err_f;
    bp::async_pipe in_pipe(ios);
    SubprocessResult result;
    boost::asio::steady_timer timer(ios);
    std::error_code ec;
    bp::child child;
    auto on_exit = bp::on_exit([&](int, const std::error_code&) { timer.cancel(); });
    std::string start_dir = options.cwd.value_or(".");
    if (options.merge_stderr) {
      child = bp::child(exe, bp::args(args), bp::std_in < in_pipe,
                        (bp::std_out & bp::std_err) > out_f, env, bp::start_dir(start_dir),
                        ios, on_exit, ec);
    } else {
      child = bp::child(exe, bp::args(args), bp::std_in < in_pipe, bp::std_out > out_f,
                        bp::std_err > err_f, env, bp::start_dir(start_dir), ios, on_exit, ec);
    }
    if (ec) return Error(ErrorCode::kIo, "run '" + exe + "': " + ec.message());
    boost::asio::async_write(in_pipe, boost::asio::buffer(options.stdin_data),
                             [&](const boost::system::error_code&, size_t) { in_pipe.close(); });
    if (options.timeout) {
      timer.expires_after(*options.timeout);
      timer.async_wait([&](const boost::system::error_code& e) {
        if (!e && child.running()) {
          result.timed_out = true;
          ::kill(child.id(), SIGKILL);
        }
      });
    }
    ios.run();  // until the output pipes close and the child has exited
    child.wait(ec);
    result.out = out_f.get();
    if (!options.merge_stderr) result.err = err_f.get();
    int native = child.native_exit_code();
    if (WIFEXITED(native)) {
      result.exit_code = WEXITSTATUS(native);
    } else if (WIFSIGNALED(native)) {
      result.term_signal = WTERMSIG(native);
      result.exit_code = 128 + result.term_signal;
    }
    return result;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kIo, "run '" + exe + "': " + e.what());
  }
}

}  // namespace gantry
