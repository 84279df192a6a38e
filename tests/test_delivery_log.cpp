// The delivery log and lasting statistics on a real volleyd: what each
// attempt got, after restarts; a replay with the same id and a valid
// signature; statistics and failures that outlast SIGTERM and kill -9.
#define BOOST_TEST_MODULE delivery_log
#include <boost/test/unit_test.hpp>

#include "tests/support/control_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/scripted_receiver.hpp"
#include "tests/support/wait.hpp"
#include "time/timestamp.hpp"

#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace volley;
using namespace volley::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

rapidjson::Document ask(uint16_t port, const std::string& line) {
  control_client c{port};
  auto answer = c.call(line);
  rapidjson::Document doc;
  doc.Parse(answer.c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject(), answer);
  return doc;
}

std::string publish_one(uint16_t port, const std::string& id) {
  line_client c{port};
  c.send_line("{\"type\":\"order.created\",\"id\":\"" + id + "\",\"data\":{\"n\":1}}");
  auto answer = c.read_line();
  BOOST_REQUIRE(answer);
  return *answer;
}

// node stats: attempts in the last hour
int64_t hour_attempts(uint16_t port) {
  auto doc = ask(port, R"({"op":"stats"})");
  return doc["node"]["windows"]["1h"]["attempts"].GetInt64();
}

} // namespace

BOOST_AUTO_TEST_CASE(every_attempt_is_logged_and_outlasts_a_restart) {
  // 500, 500, then 200: three attempts of one delivery.
  scripted_receiver endpoint{[](const std::string&, uint32_t attempt) {
    receiver_reply r;
    r.status = attempt < 3 ? 500 : 200;
    return r;
  }};
  running_node n;
  n.spec.subscribers = {{"billing", endpoint.url(), {}, secret, ""}};
  n.start();
  BOOST_REQUIRE(publish_one(n.port(), "ord_1").find("\"ok\":true") != std::string::npos);
  BOOST_REQUIRE(wait_until([&] { return endpoint.delivered_count() == 1; }));

  auto check_log = [&](uint16_t port) {
    rapidjson::Document log;
    // The last attempt's write follows its answer by a commit.
    BOOST_REQUIRE(wait_until([&] {
      log = ask(port, R"({"op":"events.show","id":"ord_1"})");
      return log["ok"].GetBool() && log["deliveries"].Size() == 1 &&
             log["deliveries"][0]["attempts"].Size() == 3;
    }));
    BOOST_TEST(log["type"].GetString() == std::string{"order.created"});
    const auto& d = log["deliveries"][0];
    BOOST_TEST(d["subscriber"].GetString() == std::string{"billing"});
    BOOST_TEST(d["outcome"].GetString() == std::string{"delivered"});
    const auto& a = d["attempts"];
    int want_status[] = {500, 500, 200};
    const char* want_outcome[] = {"retrying", "retrying", "delivered"};
    for (rapidjson::SizeType i = 0; i < 3; ++i) {
      BOOST_TEST(a[i]["attempt"].GetInt() == static_cast<int>(i) + 1);
      BOOST_TEST(a[i]["status"].GetInt() == want_status[i]);
      BOOST_TEST(a[i]["outcome"].GetString() == std::string{want_outcome[i]});
      BOOST_TEST(!a[i]["replay"].GetBool());
    }
    BOOST_TEST(a[0]["error"].GetString() == std::string{"HTTP 500"});
  };
  check_log(n.port());
  // The failed attempts, listed.
  auto failed = ask(n.port(), R"({"op":"events.list","status":"failed","since":"1h"})");
  BOOST_REQUIRE(failed["ok"].GetBool());
  BOOST_TEST(failed["attempts"].Size() == 2u);

  BOOST_REQUIRE_EQUAL(n.stop(), 0);
  n.start();
  check_log(n.port());
  auto missing = ask(n.port(), R"({"op":"events.show","id":"nope"})");
  BOOST_TEST(!missing["ok"].GetBool());
  BOOST_TEST(std::string{missing["error"].GetString()}.find("no event \"nope\"") == 0u);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_replay_delivers_again_with_the_same_id_and_a_valid_signature) {
  recording_receiver endpoint{secret};
  running_node n;
  n.spec.subscribers = {{"billing", endpoint.url(), {}, secret, ""}};
  n.start();
  BOOST_REQUIRE(publish_one(n.port(), "ord_7").find("\"ok\":true") != std::string::npos);
  BOOST_REQUIRE(wait_until([&] { return endpoint.count() == 1; }));
  BOOST_REQUIRE(wait_until([&] {
    auto log = ask(n.port(), R"({"op":"events.show","id":"ord_7"})");
    return log["ok"].GetBool() && log["deliveries"].Size() == 1;
  }));
  control_client control{n.port()};
  auto answer = control.call(R"({"op":"events.replay","id":"ord_7"})");
  rapidjson::Document replayed;
  replayed.Parse(answer.c_str());
  BOOST_REQUIRE_MESSAGE(answer.find("\"ok\":true") != std::string::npos, answer);
  BOOST_TEST(replayed["replayed"][0].GetString() == std::string{"billing"});
  BOOST_REQUIRE(wait_until([&] { return endpoint.count() == 2; }));
  auto all = endpoint.all();
  BOOST_TEST(all[1].event_id == "ord_7");
  BOOST_TEST(all[1].signature_valid);
  BOOST_TEST(all[1].body == all[0].body); // the same bytes
  // Marked in the log: the marker, then the replay's attempt.
  BOOST_REQUIRE(wait_until([&] {
    auto log = ask(n.port(), R"({"op":"events.show","id":"ord_7"})");
    return log["deliveries"][0]["attempts"].Size() == 3;
  }));
  auto log = ask(n.port(), R"({"op":"events.show","id":"ord_7"})");
  const auto& a = log["deliveries"][0]["attempts"];
  BOOST_TEST(a[1]["outcome"].GetString() == std::string{"replay"});
  BOOST_TEST(a[2]["replay"].GetBool());
  BOOST_TEST(a[2]["outcome"].GetString() == std::string{"delivered"});
  auto unknown = ask(n.port(), R"({"op":"events.replay","id":"ord_7","subscriber":"nobody"})");
  BOOST_TEST(!unknown["ok"].GetBool());
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(statistics_and_failures_outlast_sigterm_and_kill_9) {
  scripted_receiver endpoint{[](const std::string& id, uint32_t attempt) {
    receiver_reply r;
    r.status = id.rfind("f", 0) == 0 && attempt == 1 ? 503 : 200;
    return r;
  }};
  running_node n;
  // Five failures in a row would open the breaker for its 30 s cooldown.
  n.spec.subscribers = {{"billing", endpoint.url(), {}, secret, "\"breaker\": {\"failure_threshold\": 100}"}};
  n.spec.monitor_extra = "\"snapshot_interval_ms\": 200";
  n.start();
  for (int i = 0; i < 5; ++i)
    publish_one(n.port(), "f" + std::to_string(i)); // one failed attempt each, then delivered
  BOOST_REQUIRE(wait_until([&] { return endpoint.delivered_count() == 5; }));
  BOOST_REQUIRE(wait_until([&] { return hour_attempts(n.port()) == 10; }));

  // SIGTERM: the last statistics are written on the way out.
  BOOST_REQUIRE_EQUAL(n.stop(), 0);
  n.start();
  BOOST_TEST(hour_attempts(n.port()) == 10);
  auto failures = ask(n.port(), R"({"op":"failures"})");
  BOOST_TEST(failures["failures"].Size() == 5u); // from before the restart

  // kill -9: what the last saved snapshot held survives.
  for (int i = 0; i < 3; ++i)
    publish_one(n.port(), "g" + std::to_string(i));
  BOOST_REQUIRE(wait_until([&] { return hour_attempts(n.port()) == 13; }));
  auto counted = unix_ms_now();
  BOOST_REQUIRE(wait_until([&] {
    auto stats = ask(n.port(), R"({"op":"stats"})");
    std::string saved = stats["node"]["statistics_saved"].GetString();
    // The snapshot holds what was counted before its mark, in whole
    // milliseconds: one marked in the millisecond of `counted` may have
    // been asked for just before the 13th attempt. Same-width RFC 3339
    // sorts as text.
    return !saved.empty() && saved > format_rfc3339_ms(counted);
  }));
  n.process().kill_hard();
  n.start();
  BOOST_TEST(hour_attempts(n.port()) == 13);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}
