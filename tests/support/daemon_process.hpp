#pragma once
// Runs the real volleyd binary with a config file, its log in a file; or
// any other long-running program, such as `volley receive`.

#include <chrono>
#include <string>
#include <vector>

namespace volley::test {

class daemon_process {
public:
  // Starts `volleyd --config config_path`; stderr goes to `log_path`.
  daemon_process(std::string config_path, std::string log_path);
  // Starts `argv` (argv[0]: the program's path); stdout and stderr go to `log_path`.
  daemon_process(const std::vector<std::string>& argv, std::string log_path);
  ~daemon_process(); // kill -9 if still running

  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  // Waits for a "listening on" line; false if it exited or timed out.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The ingress port this run listens on, from its "listening on" line (the
  // config may ask for port 0: any free port). 0 before it is ready.
  uint16_t port() const;
  // The HTTP API's port, from its "api listening on" line (which follows
  // the ingress's): waits for the line up to `timeout`; 0 without it.
  uint16_t api_port(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // SIGTERM and wait; returns the exit status (or -1 on timeout, then kill -9).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void kill_hard(); // SIGKILL and reap

  bool running();
  std::string log() const; // what this run wrote
  int pid() const { return pid_; }

private:
  std::string log_path_;
  int pid_ = -1;
  size_t log_offset_ = 0;
};

// Runs a command to completion: exit status, stdout+stderr in `output`.
int run_command(const std::string& command, std::string& output);

} // namespace volley::test
