// The monitor of a real volleyd: receivers with a controlled success rate
// (100 %, 90 %, 50 %) must show up as those rates and health statuses in the
// stats op and the log lines; each control op answers.

#define BOOST_TEST_MODULE monitor
#include <boost/test/unit_test.hpp>

#include "tests/support/daemon_process.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/occurrences.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <memory>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

// Fails every `every`-th request it sees with 500 (0: never fails).
std::function<volley::receiver_reply(const volley::received_request&)> failing_every(int every) {
  auto counter = std::make_shared<std::atomic<int>>(0);
  return [counter, every](const volley::received_request&) {
    volley::receiver_reply r;
    if (every > 0 && ++*counter % every == 0)
      r.status = 500;
    return r;
  };
}

std::string sub(const std::string& name, const std::string& url, const std::string& extra = "") {
  return "{\"name\": \"" + name + "\", \"url\": \"" + url +
         "\", \"max_attempts\": 50, \"backoff\": {\"base_ms\": 5, \"max_ms\": 20, \"jitter\": 0}" +
         ", \"breaker\": {\"failure_threshold\": 1000, \"failure_rate_percent\": 0}" + extra + "}";
}

rapidjson::Document ask(line_client& c, const std::string& op) {
  c.send_line(op);
  auto line = c.read_line();
  BOOST_REQUIRE_MESSAGE(line, "no answer to " << op);
  rapidjson::Document doc;
  doc.Parse(line->c_str());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject() && doc["ok"].GetBool(), *line);
  return doc;
}

const rapidjson::Value* find_subscriber(const rapidjson::Value& list, const std::string& name) {
  for (auto& s : list.GetArray())
    if (name == s["subscriber"].GetString())
      return &s;
  return nullptr;
}

} // namespace

BOOST_AUTO_TEST_CASE(success_rates_and_health_follow_the_endpoints) {
  recording_receiver r100{"", 0, failing_every(0)}, r90{"", 0, failing_every(10)},
    r50{"", 0, failing_every(2)};
  recording_receiver r404{"", 0, [](const volley::received_request&) {
                            volley::receiver_reply r;
                            r.status = 404;
                            return r;
                          }};
  temp_dir dir;
  auto dead = free_port(); // nothing listens there
  write_file(dir.file("volley.json"),
             "{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + dir.file("data") +
               "\"}, \"monitor\": {\"interval_ms\": 300}, "
               "\"allow_private_networks\": true, \"subscribers\": [" +
               sub("s100", r100.url()) + "," + sub("s90", r90.url()) + "," + sub("s50", r50.url()) + "," +
               sub("s404", r404.url(), ", \"events\": [\"rare.*\"]") + "," +
               "{\"name\": \"down\", \"url\": \"http://127.0.0.1:" + std::to_string(dead) +
               "/x\", \"events\": [\"rare.*\"], \"breaker\": {\"failure_threshold\": 2, "
               "\"cooldown_ms\": 60000}}]}");
  daemon_process volleyd{dir.file("volley.json"), dir.file("volleyd.log")};
  BOOST_REQUIRE_MESSAGE(volleyd.wait_ready(), volleyd.log());

  line_client c{volleyd.port()};
  std::vector<std::string> lines;
  for (int i = 0; i < 400; ++i)
    lines.push_back("{\"type\":\"m.test\",\"id\":\"m" + std::to_string(i) + "\"}");
  for (int i = 0; i < 3; ++i)
    lines.push_back("{\"type\":\"rare.thing\",\"id\":\"rare" + std::to_string(i) + "\"}");
  BOOST_REQUIRE_EQUAL(c.exchange(lines).size(), lines.size());

  // Settled: every m.* event delivered to the three, the rare ones dead-lettered at s404.
  bool settled = wait_until(
    [&] {
      auto stats = ask(c, R"({"op":"stats"})");
      auto& subs = stats["subscribers"];
      for (const char* name : {"s100", "s90", "s50"})
        if (find_subscriber(subs, name)->operator[]("since_start")["delivered"].GetInt() < 400)
          return false;
      return (*find_subscriber(subs, "s404"))["since_start"]["dead_lettered"].GetInt() == 3;
    },
    60s);
  BOOST_REQUIRE_MESSAGE(settled, "not settled:\n" << volleyd.log().substr(0, 4000));

  auto stats = ask(c, R"({"op":"stats","hours":2})");
  auto& subs = stats["subscribers"];
  auto rate = [&](const char* name) { return (*find_subscriber(subs, name))["success_rate"].GetDouble(); };
  auto status = [&](const char* name) {
    return std::string{(*find_subscriber(subs, name))["status"].GetString()};
  };
  BOOST_CHECK_CLOSE(rate("s100"), 100.0, 0.01);
  BOOST_CHECK_MESSAGE(rate("s90") > 88 && rate("s90") < 92, "s90 rate " << rate("s90"));
  BOOST_CHECK_MESSAGE(rate("s50") > 48 && rate("s50") < 52, "s50 rate " << rate("s50"));
  BOOST_CHECK_EQUAL(status("s100"), "healthy");
  BOOST_CHECK_EQUAL(status("s90"), "degraded");
  BOOST_CHECK_EQUAL(status("s50"), "unhealthy");
  // Attempts include the retries: 400 deliveries at 50 % need about 800.
  auto& s50 = *find_subscriber(subs, "s50");
  BOOST_CHECK_GE(s50["windows"]["1h"]["attempts"].GetInt(), 780);
  BOOST_CHECK(s50["windows"].HasMember("2h"));
  BOOST_CHECK_GT(s50["windows"]["1m"]["outcomes"]["500"].GetInt(), 300);
  BOOST_CHECK_GT(s50["windows"]["1h"]["avg_attempts"].GetDouble(), 1.5);
  bool has_type = false;
  for (auto& t : stats["event_types"].GetArray())
    has_type = has_type || std::string{t["type"].GetString()} == "m.test";
  BOOST_CHECK(has_type);

  auto health = ask(c, R"({"op":"health"})");
  BOOST_CHECK_EQUAL(std::string{health["subscribers"]["s90"].GetString()}, "degraded");

  auto listing = ask(c, R"({"op":"subscribers"})");
  BOOST_CHECK_EQUAL(listing["subscribers"].GetArray().Size(), 5u);
  BOOST_CHECK_EQUAL(std::string{(*find_subscriber(listing["subscribers"], "down"))["breaker"].GetString()},
                    "open");

  auto failures = ask(c, R"({"op":"failures","limit":5})");
  BOOST_REQUIRE_EQUAL(failures["failures"].GetArray().Size(), 5u);

  auto queue = ask(c, R"({"op":"queue"})");
  BOOST_CHECK_EQUAL(queue["dlq"].GetInt(), 3);
  BOOST_CHECK_EQUAL((*find_subscriber(queue["subscribers"], "down"))["pending"].GetInt(), 3);

  auto test = ask(c, R"({"op":"test","subscriber":"s404"})");
  BOOST_CHECK_EQUAL(test["status"].GetInt(), 404);

  // The log lines, including the ones written at once on state changes.
  BOOST_CHECK(wait_until(
    [&] {
      auto log = volleyd.log();
      return log.find("monitor subscriber=s90 status=degraded") != std::string::npos &&
             log.find("monitor subscriber=s50 status=unhealthy") != std::string::npos &&
             log.find("monitor subscriber=s100 status=healthy") != std::string::npos &&
             log.find("monitor node status=") != std::string::npos;
    },
    10s));
  auto log = volleyd.log();
  BOOST_CHECK(log.find("monitor subscriber=down event=breaker_open") != std::string::npos);
  BOOST_CHECK(log.find("monitor node event=dlq_growth") != std::string::npos);
  BOOST_CHECK(log.find("event=health status=unhealthy") != std::string::npos);
  BOOST_CHECK_EQUAL(volleyd.stop(), 0);
}

// With format json every line of the log is one JSON object (time, level
// and the record inside), for `jq` and log shippers; it used to be
// `<time> info monitor {...}`.
BOOST_AUTO_TEST_CASE(json_log_format_writes_one_json_object_per_line) {
  recording_receiver sink;
  temp_dir dir;
  write_file(dir.file("volley.json"), "{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" +
                                        dir.file("data") +
                                        "\"}, \"monitor\": {\"interval_ms\": 200, \"format\": \"json\"}, "
                                        "\"allow_private_networks\": true, \"subscribers\": [" +
                                        sub("j", sink.url()) + "]}");
  daemon_process volleyd{dir.file("volley.json"), dir.file("volleyd.log")};
  BOOST_REQUIRE(volleyd.wait_ready());
  line_client c{volleyd.port()};
  c.send_line(R"({"type":"x"})");
  BOOST_REQUIRE(c.read_line());
  BOOST_REQUIRE(
    wait_until([&] { return volleyd.log().find("\"subscriber\":\"j\",\"status\"") != std::string::npos; }));
  BOOST_CHECK_EQUAL(volleyd.stop(), 0);
  auto log = volleyd.log();
  size_t lines = 0, monitor_lines = 0, messages = 0;
  bool subscriber_line = false;
  for (size_t at = 0, end; at < log.size(); at = end + 1) {
    end = log.find('\n', at);
    BOOST_REQUIRE_MESSAGE(end != std::string::npos, "the log ends in a partial line");
    auto line = log.substr(at, end - at);
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject(), "not one JSON object: " << line);
    BOOST_REQUIRE_MESSAGE(doc.HasMember("time") && doc["time"].IsString(), line);
    BOOST_REQUIRE_MESSAGE(doc.HasMember("level") && doc["level"].IsString(), line);
    ++lines;
    if (doc.HasMember("message"))
      ++messages;
    if (doc.HasMember("source") && std::string{doc["source"].GetString()} == "monitor") {
      ++monitor_lines;
      if (doc.HasMember("subscriber") && std::string{doc["subscriber"].GetString()} == "j" &&
          doc.HasMember("success_rate") && doc.HasMember("status"))
        subscriber_line = true;
    }
  }
  BOOST_TEST(messages > 0u, log); // "listening on", "stopped": text records as "message"
  BOOST_TEST(monitor_lines > 0u, log);
  BOOST_TEST(subscriber_line, log);
  BOOST_TEST(lines == messages + monitor_lines, log);
  // jq, when installed, reads the same file.
  std::string out;
  if (run_command("command -v jq", out) == 0) {
    BOOST_TEST(run_command("jq -e -s 'length > 0 and all(.[]; has(\"time\") and has(\"level\"))' " +
                             dir.file("volleyd.log"),
                           out) == 0,
               out);
  }
}

// Start-up bugs, each seen in the log of a real start: a subscriber's
// first report logged a health change from "healthy" (it started as the
// enum's first value, not unknown), the tls_insecure warning came twice, and
// a subscriber without a secret was accepted silently.
BOOST_AUTO_TEST_CASE(start_up_logs_health_from_unknown_and_warns_about_tls_and_no_secret_once) {
  running_node n;
  n.spec.subscribers = {{"quiet", "http://127.0.0.1:9/never", {"nothing.*"}, "", ""},
                        {"down", "https://127.0.0.1:9/hooks", {"x"}, "", "\"tls_insecure\": true"}};
  n.start();
  line_client c{n.port()};
  c.send_line(R"({"type":"x"})");
  BOOST_REQUIRE(c.read_line());
  // The failed attempt makes "down" unhealthy: a health line that must say
  // where it came from.
  BOOST_REQUIRE(
    wait_until([&] { return n.log().find("subscriber=down event=health") != std::string::npos; }));
  auto log = n.log();
  BOOST_TEST(log.find("subscriber=down event=health status=unhealthy was=unknown") != std::string::npos, log);
  BOOST_TEST(log.find("was=healthy") == std::string::npos, log);
  BOOST_TEST(occurrences(log, "tls_insecure=true") == 1u, log);
  // Neither has a secret: each is warned about once.
  BOOST_TEST(occurrences(log, "subscriber=quiet secret=none") == 1u, log);
  BOOST_TEST(occurrences(log, "subscriber=down secret=none") == 1u, log);
}
