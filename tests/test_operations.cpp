// Operating a real volleyd: subscriber enable/disable, the rate limit, and a
// full storage map (refused with an error, nothing accepted lost, recovery).

#define BOOST_TEST_MODULE operations
#include <boost/test/unit_test.hpp>

#include "tests/support/control_client.hpp"
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
  n.start("{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + n.spec.data_dir + "\"" + storage_extra +
          "}, \"monitor\": {\"interval_ms\": 1000}, \"allow_private_networks\": true, "
          "\"subscribers\": [" +
          subscribers + "]}");
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

BOOST_AUTO_TEST_CASE(an_operators_disable_and_enable_outlast_restarts) {
  recording_receiver off, on;
  running_node n;
  const std::string subscribers = "{\"name\": \"off\", \"url\": \"" + off.url() + "\"}, " +
                                  "{\"name\": \"on\", \"url\": \"" + on.url() + "\"}";
  start(n, "", subscribers);
  {
    control_client control{n.port()};
    auto answer = control.call(R"({"op":"subscriber.disable","subscriber":"off"})");
    BOOST_CHECK_MESSAGE(answer.find("\"enabled\":false") != std::string::npos, answer);
  }
  // The answer came after the commit: even kill -9 right away keeps it.
  n.process().kill_hard();

  start(n, "", subscribers);
  BOOST_CHECK_MESSAGE(
    wait_until([&] { return n.log().find("subscriber=off disabled (recorded ") != std::string::npos; }),
    n.log());
  BOOST_CHECK_MESSAGE(n.log().find("disabled by operator); its deliveries stay queued; re-enable "
                                   "with: volley subscriber enable --subscriber off") != std::string::npos,
                      n.log());
  line_client client{n.port()};
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i)
    lines.push_back(event("k" + std::to_string(i)));
  for (auto& a : client.exchange(lines))
    BOOST_REQUIRE(ok(a));
  // "on" has them all, so "off" had the same chance: it stayed silent.
  BOOST_REQUIRE(wait_until([&] { return on.distinct() == 20; }));
  BOOST_CHECK_EQUAL(off.count(), 0u);
  control_client control{n.port()};
  node_stats stats;
  BOOST_CHECK_MESSAGE(wait_until([&] {
                        stats = control.stats();
                        return !stats.subscribers["off"].enabled && stats.subscribers["on"].enabled &&
                               stats.queued == 20;
                      }),
                      "off enabled=" << stats.subscribers["off"].enabled << " queued=" << stats.queued);
  auto listed = control.call(R"({"op":"subscribers"})");
  BOOST_CHECK_MESSAGE(listed.find("\"disabled_reason\":\"disabled by operator\"") != std::string::npos,
                      listed);

  // Enabled by the operator: the kept deliveries go out, and a restart
  // (SIGTERM this time) keeps it enabled.
  auto answer = control.call(R"({"op":"subscriber.enable","subscriber":"off"})");
  BOOST_CHECK_MESSAGE(answer.find("\"enabled\":true") != std::string::npos, answer);
  BOOST_CHECK(wait_until([&] { return off.distinct() == 20; }));
  BOOST_CHECK_EQUAL(n.stop(), 0);

  start(n, "", subscribers);
  line_client again{n.port()};
  BOOST_REQUIRE(ok(again.exchange({event("after")}).at(0)));
  BOOST_CHECK(wait_until([&] { return off.per_event().count("after") == 1; }));
  BOOST_CHECK(control_client{n.port()}.stats().subscribers["off"].enabled);
  BOOST_CHECK(n.log().find("subscriber=off disabled") == std::string::npos);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_reload_turning_enabled_back_on_clears_a_recorded_disable) {
  recording_receiver receiver;
  running_node n;
  auto config = [&](bool enabled) {
    return "{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + n.spec.data_dir +
           "\"}, \"allow_private_networks\": true, \"subscribers\": [{\"name\": \"s\", " + "\"url\": \"" +
           receiver.url() + "\", \"enabled\": " + (enabled ? "true" : "false") + "}]}";
  };
  n.start(config(true));
  control_client control{n.port()};
  BOOST_CHECK(ok(control.call(R"({"op":"subscriber.disable","subscriber":"s"})")));
  auto reload = [&](bool enabled) {
    write_file(n.dir().file("volley.json"), config(enabled));
    auto answer = control.call(R"({"op":"reload"})");
    BOOST_CHECK_MESSAGE(ok(answer), answer);
  };
  // The file says false, then true again: a change to true re-enables it
  // and deletes the recorded disable.
  reload(false);
  BOOST_REQUIRE(ok(control.call(event("x1"))));
  reload(true);
  BOOST_CHECK(wait_until([&] { return receiver.per_event().count("x1") == 1; }));
  BOOST_CHECK_EQUAL(n.stop(), 0);

  n.start(config(true));
  BOOST_REQUIRE(ok(control_client{n.port()}.call(event("x2"))));
  BOOST_CHECK(wait_until([&] { return receiver.per_event().count("x2") == 1; }));
  BOOST_CHECK(n.log().find("subscriber=s disabled") == std::string::npos);
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
  auto took =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
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
  bool accepted_again = wait_until(
    [&] {
      client.send_line(event("after-" + std::to_string(accepted.size()), 1000));
      auto answer = client.read_line();
      return answer && ok(*answer);
    },
    30s);
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
        "{\"name\": \"a\", \"url\": \"" + knows_old.url() + "\", " + secrets +
          "}, "
          "{\"name\": \"b\", \"url\": \"" +
          knows_new.url() + "\", " + secrets + "}");
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

// A refused address was retried up to max_attempts as if it were transient.
// It is a configuration error: dead-lettered on its first attempt, with the
// engine's whole reason in the entry and in `failures`.
BOOST_AUTO_TEST_CASE(an_address_the_ssrf_guard_refuses_is_dead_lettered_at_once_with_its_reason) {
  recording_receiver receiver; // on 127.0.0.1: refused without allow_private_networks
  running_node n;
  n.start("{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + n.spec.data_dir +
          "\"}, \"monitor\": {\"interval_ms\": 1000}, \"allow_private_networks\": false, "
          "\"subscribers\": [{\"name\": \"local\", \"url\": \"" +
          receiver.url() + "\", \"max_attempts\": 5, \"backoff\": {\"base_ms\": 10, \"max_ms\": 20}}]}");
  control_client control{n.port()};
  BOOST_REQUIRE(ok(control.call(event("ssrf-1"))));
  std::vector<dlq_entry> entries;
  BOOST_REQUIRE(wait_until([&] { return (entries = control.dlq_all()).size() == 1; }));
  const std::string reason = "private or loopback address (set allow_private_networks to allow)";
  BOOST_TEST(entries[0].attempts == 1);
  BOOST_TEST(entries[0].last_error.rfind("refused to connect to 127.0.0.1: ", 0) == 0u,
             entries[0].last_error);
  BOOST_TEST(entries[0].last_error.find(reason) != std::string::npos, entries[0].last_error);
  std::string failures;
  BOOST_REQUIRE(wait_until(
    [&] { return (failures = control.call(R"({"op":"failures"})")).find(reason) != std::string::npos; }));
  BOOST_TEST(failures.find("\"attempt\":1") != std::string::npos, failures);
  BOOST_TEST(failures.find("\"attempt\":2") == std::string::npos, failures);
  BOOST_TEST(receiver.count() == 0u); // the guard acts before connecting
  BOOST_CHECK_EQUAL(n.stop(), 0);
}
