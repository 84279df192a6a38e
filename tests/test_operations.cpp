// Operating a real volleyd: subscriber enable/disable, the rate limit, and a
// full storage map (refused with an error, nothing accepted lost, recovery).

#define BOOST_TEST_MODULE operations
#include <boost/test/unit_test.hpp>

#include "tests/support/daemon_process.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <algorithm>
#include <memory>
#include <set>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

// A node whose config this file writes itself: storage settings and
// subscribers vary per test.
void start(running_node& n, const std::string& storage_extra, const std::string& subscribers) {
  n.start("{\"ingress\": {\"port\": " + std::to_string(n.port()) + "}, \"storage\": {\"path\": \"" +
          n.spec.data_dir + "\"" + storage_extra +
          "}, \"monitor\": {\"interval_ms\": 1000}, \"allow_private_networks\": true, "
          "\"subscribers\": [" + subscribers + "]}");
}

std::string event(const std::string& id, size_t payload = 0) {
  return "{\"type\":\"op.test\",\"id\":\"" + id + "\",\"data\":\"" + std::string(payload, 'x') + "\"}";
}

bool ok(const std::string& answer) { return answer.rfind("{\"ok\":true", 0) == 0; }

} // namespace

BOOST_AUTO_TEST_CASE(a_disabled_subscriber_keeps_its_deliveries_until_enabled) {
  recording_receiver receiver;
  running_node n;
  start(n, "", "{\"name\": \"s\", \"url\": \"" + receiver.url() + "\"}");
  line_client client{n.port()};
  client.send_line(R"({"op":"subscriber.disable","subscriber":"s"})");
  auto answer = client.read_line();
  BOOST_REQUIRE(answer);
  BOOST_CHECK_MESSAGE(answer->find("\"enabled\":false") != std::string::npos, *answer);

  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i)
    lines.push_back(event("d" + std::to_string(i)));
  for (auto& a : client.exchange(lines))
    BOOST_REQUIRE(ok(a));
  // Stats answers after the events' acks: the subscriber has them queued.
  client.send_line(R"({"op":"subscriber.nope"})");
  BOOST_CHECK(!ok(*client.read_line()));
  BOOST_CHECK_EQUAL(receiver.count(), 0u);

  client.send_line(R"({"op":"subscriber.enable","subscriber":"s"})");
  answer = client.read_line();
  BOOST_REQUIRE(answer);
  BOOST_CHECK_MESSAGE(answer->find("\"enabled\":true") != std::string::npos, *answer);
  BOOST_CHECK(wait_until([&] { return receiver.distinct() == 50; }));

  client.send_line(R"({"op":"subscriber.enable","subscriber":"missing"})");
  BOOST_CHECK(!ok(*client.read_line()));
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(the_rate_limit_spaces_requests_out) {
  recording_receiver receiver;
  running_node n;
  start(n, "", "{\"name\": \"slow\", \"url\": \"" + receiver.url() + "\", \"rate_limit_per_s\": 20}");
  std::vector<std::string> lines;
  for (int i = 0; i < 60; ++i)
    lines.push_back(event("r" + std::to_string(i)));
  line_client client{n.port()};
  auto started = std::chrono::steady_clock::now();
  for (auto& a : client.exchange(lines))
    BOOST_REQUIRE(ok(a));
  BOOST_REQUIRE(wait_until([&] { return receiver.distinct() == 60; }));
  // 60 requests at 20/s with a burst of 20 need at least 2 s: a lower bound,
  // so a slow machine cannot make this fail.
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  BOOST_CHECK_GE(took.count(), 1900);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_full_map_refuses_new_events_and_recovers) {
  auto endpoint = free_port(); // down at first: deliveries pile up on disk
  running_node n;
  start(n, ", \"map_size_mb\": 2",
          "{\"name\": \"s\", \"url\": \"http://127.0.0.1:" + std::to_string(endpoint) +
            "/hook\", \"backoff\": {\"base_ms\": 20, \"max_ms\": 100}, \"max_attempts\": 10000}");
  line_client client{n.port()};
  std::set<std::string> accepted;
  std::string refusal;
  for (int i = 0; i < 200 && refusal.empty(); ++i) {
    auto id = "f" + std::to_string(i);
    client.send_line(event(id, 50000));
    auto answer = client.read_line();
    BOOST_REQUIRE(answer);
    if (ok(*answer))
      accepted.insert(id);
    else
      refusal = *answer;
  }
  BOOST_REQUIRE_MESSAGE(!refusal.empty(), "a 2 MB map took 200 events of 50 KB");
  BOOST_CHECK_MESSAGE(refusal.find("map_size_mb") != std::string::npos, refusal);
  BOOST_CHECK(!accepted.empty());

  // The endpoint comes back: everything accepted arrives, space frees up, and
  // new events are accepted again.
  recording_receiver receiver{"", endpoint};
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return receiver.distinct() >= accepted.size(); }, 60s),
                        "delivered " << receiver.distinct() << " of " << accepted.size());
  for (const auto& [id, times] : receiver.per_event())
    BOOST_CHECK_MESSAGE(accepted.count(id) == 1, "unexpected " << id);
  bool accepted_again = wait_until([&] {
    client.send_line(event("after-" + std::to_string(accepted.size()), 1000));
    auto answer = client.read_line();
    return answer && ok(*answer);
  }, 30s);
  BOOST_CHECK(accepted_again);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(rotated_secrets_sign_with_each_secret) {
  const std::string old_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string new_secret = "whsec_bmV3LXNlY3JldC1mb3Itcm90YXRpb24=";
  // Two receivers on one URL would race; two subscribers with the same
  // secrets, each checked by a receiver that knows only one of them.
  recording_receiver knows_old{old_secret}, knows_new{new_secret};
  running_node n;
  auto secrets = "\"secrets\": [\"" + new_secret + "\", \"" + old_secret + "\"]";
  start(n, "",
        "{\"name\": \"a\", \"url\": \"" + knows_old.url() + "\", " + secrets + "}, "
        "{\"name\": \"b\", \"url\": \"" + knows_new.url() + "\", " + secrets + "}");
  line_client client{n.port()};
  for (auto& a : client.exchange({event("rot-1"), event("rot-2")}))
    BOOST_REQUIRE(ok(a));
  BOOST_REQUIRE(wait_until([&] { return knows_old.distinct() == 2 && knows_new.distinct() == 2; }));
  // Standard Webhooks: one v1 entry per secret, either verifies.
  BOOST_CHECK_EQUAL(knows_new.invalid_signatures(), 0u);
  auto signatures = knows_old.all().front().signature;
  BOOST_CHECK_MESSAGE(std::count(signatures.begin(), signatures.end(), ' ') == 1, signatures);
  // The legacy header carries the first (current) secret's signature only,
  // so the receiver that knows only the old secret rejects that form.
  BOOST_CHECK_EQUAL(knows_old.invalid_signatures(), 2u);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}
