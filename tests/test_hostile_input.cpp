// The ingress against untrusted clients: token auth, connection and idle
// limits, and every kind of hostile line, while another connection keeps
// being served and nothing accepted is lost.

#define BOOST_TEST_MODULE hostile_input
#include <boost/test/unit_test.hpp>

#include "tests/support/daemon_process.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <memory>
#include <thread>

using namespace volley::test;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

// One subscriber; the ingress settings vary per test.
void start(running_node& n, const std::string& ingress_extra, const std::string& url) {
  n.start("{\"ingress\": {\"port\": 0" + ingress_extra + "}, \"storage\": {\"path\": \"" + n.spec.data_dir +
          "\"}, \"allow_private_networks\": true, \"subscribers\": [{\"name\": \"s\", "
          "\"url\": \"" +
          url + "\"}]}");
}

bool ok(const std::optional<std::string>& line) { return line && line->rfind("{\"ok\":true", 0) == 0; }

// True when the peer closed the connection (read returns nothing at EOF).
bool closed_by_peer(line_client& c) {
  return wait_until([&] { return !c.read_line(100ms); }, 10s);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_token_must_come_first) {
  recording_receiver sink;
  running_node n;
  start(n, ", \"token\": \"s3cret-token\"", sink.url());
  {
    line_client c{n.port()};
    c.send_line(R"({"type":"x","id":"sneaky"})");
    auto answer = c.read_line();
    BOOST_REQUIRE(answer);
    BOOST_CHECK_MESSAGE(answer->find("authentication required") != std::string::npos, *answer);
    BOOST_CHECK(closed_by_peer(c));
  }
  {
    // Deep nesting before authentication: refused, not a crash.
    line_client c{n.port()};
    c.send_line(std::string(500000, '[') + std::string(500000, ']'));
    BOOST_CHECK(!ok(c.read_line()));
    BOOST_CHECK(closed_by_peer(c));
  }
  {
    line_client c{n.port()};
    c.send_line(R"({"op":"auth","token":"s3cret-tokeX"})");
    BOOST_CHECK(!ok(c.read_line()));
    BOOST_CHECK(closed_by_peer(c));
  }
  line_client c{n.port()};
  c.send_line(R"({"op":"auth","token":"s3cret-token"})");
  BOOST_CHECK(ok(c.read_line()));
  c.send_line(R"({"type":"x","id":"allowed"})");
  BOOST_CHECK(ok(c.read_line()));
  BOOST_CHECK(wait_until([&] { return sink.distinct() == 1; }));
  BOOST_CHECK_EQUAL(sink.per_event().count("sneaky"), 0u);
  // The token never shows up in the log.
  BOOST_CHECK(n.process().log().find("s3cret") == std::string::npos);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(connection_and_idle_limits) {
  recording_receiver sink;
  running_node n;
  start(n, ", \"max_connections\": 2, \"idle_timeout_ms\": 300", sink.url());
  line_client a{n.port()}, b{n.port()};
  a.send_line(R"({"type":"x"})");
  b.send_line(R"({"type":"x"})");
  BOOST_CHECK(ok(a.read_line()));
  BOOST_CHECK(ok(b.read_line()));
  line_client third{n.port()};
  auto refused = third.read_line();
  BOOST_REQUIRE(refused);
  BOOST_CHECK_MESSAGE(refused->find("too many connections") != std::string::npos, *refused);
  // Silent connections are closed with a reason.
  auto idle = a.read_line(10s);
  BOOST_REQUIRE(idle);
  BOOST_CHECK_MESSAGE(idle->find("idle") != std::string::npos, *idle);
  BOOST_CHECK(closed_by_peer(a));
  BOOST_CHECK(closed_by_peer(b));
  // Their slots are free again.
  BOOST_CHECK(wait_until([&] {
    line_client again{n.port()};
    again.send_line(R"({"type":"x"})");
    return ok(again.read_line(2s));
  }));
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(hostile_lines_get_errors_and_lose_nothing) {
  recording_receiver sink;
  running_node n;
  start(n, "", sink.url());

  // A well-behaved client publishes throughout.
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread good([&] {
    line_client c{n.port()};
    for (int i = 0; !stop && i < 100000; ++i) {
      c.send_line("{\"type\":\"good\",\"id\":\"g" + std::to_string(i) + "\"}");
      if (ok(c.read_line()))
        ++acked;
    }
  });

  std::vector<std::string> hostile = {
    "\0\1\2\xff\xfe garbage"s,
    "{\"type\":\"a\0b\"}"s,                              // NUL inside a string
    "{\"type\":\"\xc3\x28\"}",                           // invalid UTF-8
    std::string(100000, '[') + std::string(100000, ']'), // deeply nested
    "{\"type\":\"x\",\"data\":1e999999}",                // huge number
    "{\"type\":\"x\",\"priority\":99999999999999999999999}",
    "{\"type\":\"x\",\"data\":" + std::string(5000, '9') + "}",
    // Control lines are read again by the op handlers.
    "{\"op\":\"test\",\"x\":" + std::string(200000, '[') + std::string(200000, ']') + "}",
    "{\"op\":\"stats\",\"x\":" + std::string(200000, '[') + std::string(200000, ']') + "}",
    "{\"op\":\"dlq.list\",\"x\":" + std::string(200000, '[') + std::string(200000, ']') + "}",
  };
  line_client bad{n.port()};
  for (const auto& line : hostile) {
    bad.send_line(line);
    auto answer = bad.read_line();
    BOOST_REQUIRE_MESSAGE(answer, "no answer to a hostile line");
    // Events must be refused (but a long plain number is valid JSON); an op
    // may answer, it only must not crash the node.
    bool may_pass = line.find("data\":9999") != std::string::npos || line.rfind("{\"op\"", 0) == 0;
    BOOST_CHECK_MESSAGE(!ok(answer) || may_pass, "accepted: " << line.substr(0, 60));
  }
  // 10 MB without a newline, then the newline: one error, then business as usual.
  bad.send_raw(std::string(10 << 20, 'z'));
  bad.send_raw("\n");
  auto big = bad.read_line();
  BOOST_REQUIRE(big);
  BOOST_CHECK_MESSAGE(big->find("longer than") != std::string::npos, *big);
  bad.send_line(R"({"type":"after.big","id":"after-big"})");
  BOOST_CHECK(ok(bad.read_line()));
  // Half a line, then gone.
  {
    line_client half{n.port()};
    half.send_raw("{\"type\":\"half");
  }

  BOOST_CHECK(wait_until([&] { return acked > 200; }));
  stop = true;
  good.join();
  auto want = static_cast<size_t>(acked.load()) + 1; // + after-big
  BOOST_CHECK_MESSAGE(wait_until([&] { return sink.distinct() >= want; }),
                      "delivered " << sink.distinct() << " of " << want);
  BOOST_CHECK(n.process().running());
  BOOST_CHECK_EQUAL(n.stop(), 0);
}
