#include "tests/support/running_node.hpp"

#include <boost/test/unit_test.hpp>

namespace volley::test {

running_node::running_node() {
  spec.port = 0;
  spec.data_dir = dir_.file("data");
}

void running_node::start() { start(node_config_json(spec)); }

void running_node::start(const std::string& config_json) {
  write_file(dir_.file("volley.json"), config_json);
  process_ = std::make_unique<daemon_process>(dir_.file("volley.json"), dir_.file("volleyd.log"));
  BOOST_REQUIRE_MESSAGE(process_->wait_ready(), "volleyd did not start:\n" << process_->log());
}

int running_node::stop(std::chrono::milliseconds timeout) { return process_->stop(timeout); }

std::string running_node::log() const { return process_ ? process_->log() : ""; }

} // namespace volley::test
