#pragma once
// A real volleyd for end-to-end tests: its own port, data directory, config
// file and log, started from a test_node spec or from config text as is.

#include "tests/support/daemon_process.hpp"
#include "tests/support/node_config.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace volley::test {

class running_node {
public:
  running_node(); // spec.port: 0 (any free port); spec.data_dir: inside dir()

  test_node spec;

  // Writes the config (from spec, or `config_json` as is), starts volleyd
  // and waits until it listens; fails the test when it does not.
  void start();
  void start(const std::string& config_json);

  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  daemon_process& process() { return *process_; }
  std::string log() const; // what the current (or last) run wrote
  // The port the current (or last) run listens on.
  uint16_t port() const { return process_ ? process_->port() : 0; }
  // The HTTP API's port of the current run (spec.api set); 0 without one.
  uint16_t api_port() { return process_ ? process_->api_port() : 0; }
  const temp_dir& dir() const { return dir_; }

private:
  temp_dir dir_;
  std::unique_ptr<daemon_process> process_;
};

} // namespace volley::test
