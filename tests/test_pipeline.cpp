// End to end through the real volleyd binary: TCP ingress -> router ->
// persistence -> subscriber actors -> signed HTTP at real receivers.

#define BOOST_TEST_MODULE pipeline
#include <boost/test/unit_test.hpp>

#include "storage/lmdb_store.hpp"
#include "tests/support/control_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/event_publisher.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/node_config.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

const std::string secret_a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string secret_b = "plain-secret-b";
const std::string secret_c = "whsec_c2VjcmV0LWZvci1j";

struct answer {
  bool ok = false;
  std::string id;
  std::string error;
  bool duplicate = false;
};

answer parse_answer(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  answer a;
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject(), "answer is not JSON: " << line);
  a.ok = doc["ok"].GetBool();
  if (doc.HasMember("id"))
    a.id = doc["id"].GetString();
  if (doc.HasMember("error"))
    a.error = doc["error"].GetString();
  a.duplicate = doc.HasMember("duplicate");
  return a;
}

} // namespace

BOOST_AUTO_TEST_CASE(ten_thousand_events_reach_exactly_the_matching_subscribers) {
  recording_receiver orders{secret_a}, failures{secret_b}, invoices{secret_c};
  running_node n;
  n.spec.subscribers = {
    {"orders", orders.url(), {"order.*"}, secret_a, ""},
    {"failures", failures.url(), {"*.failed"}, secret_b, ""},
    {"invoices", invoices.url(), {"invoice.paid", "invoice.voided"}, secret_c, ""},
  };
  n.start();

  const std::vector<std::string> types = {"order.created", "order.failed", "invoice.paid", "invoice.failed",
                                          "user.signup"};
  constexpr int connections = 4;
  constexpr int per_connection = 2500;
  std::map<std::string, std::set<std::string>> expected; // subscriber -> ids
  std::vector<std::vector<std::string>> lines(connections);
  std::vector<std::vector<std::string>> ids(connections);
  for (int c = 0; c < connections; ++c)
    for (int i = 0; i < per_connection; ++i) {
      auto id = "e" + std::to_string(c) + "-" + std::to_string(i);
      const auto& type = types[static_cast<size_t>(i + c) % types.size()];
      lines[c].push_back(event_line(id, type));
      ids[c].push_back(id);
      if (type.rfind("order.", 0) == 0)
        expected["orders"].insert(id);
      if (type.size() > 7 && type.compare(type.size() - 7, 7, ".failed") == 0)
        expected["failures"].insert(id);
      if (type == "invoice.paid")
        expected["invoices"].insert(id);
    }

  std::vector<std::vector<std::string>> answers(connections);
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c)
    clients.emplace_back([&, c] {
      line_client client{n.port()};
      answers[c] = client.exchange(lines[c]);
    });
  for (auto& t : clients)
    t.join();

  for (int c = 0; c < connections; ++c) {
    BOOST_REQUIRE_EQUAL(answers[c].size(), lines[c].size());
    for (size_t i = 0; i < answers[c].size(); ++i) {
      auto a = parse_answer(answers[c][i]);
      BOOST_REQUIRE_MESSAGE(a.ok, answers[c][i]);
      BOOST_REQUIRE_EQUAL(a.id, ids[c][i]); // in order
    }
  }

  auto check = [&](recording_receiver& r, const std::string& name) {
    auto want = expected[name].size();
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return r.count() >= want; }, 120s),
                          name << " received " << r.count() << " of " << want);
    auto seen = r.per_event();
    BOOST_CHECK_EQUAL(seen.size(), want);
    for (const auto& [id, times] : seen) {
      BOOST_CHECK_MESSAGE(expected[name].count(id) == 1, name << " got unmatched event " << id);
      BOOST_CHECK_MESSAGE(times == 1, name << " got " << id << " " << times << " times");
    }
    BOOST_CHECK_EQUAL(r.invalid_signatures(), 0u);
  };
  check(orders, "orders");
  check(failures, "failures");
  check(invoices, "invoices");
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_hanging_endpoint_does_not_delay_the_others) {
  recording_receiver hanging{"", 0, [](const volley::received_request&) {
                               volley::receiver_reply r;
                               r.hang = true;
                               return r;
                             }};
  std::atomic<size_t> hang_requests{0};
  recording_receiver healthy{secret_b};
  running_node n;
  n.spec.subscribers = {
    {"slow", hanging.url(), {}, "", "\"max_in_flight\": 4, \"timeout_ms\": 600000"},
    {"fast", healthy.url(), {}, secret_b, ""},
  };
  n.start();
  std::vector<std::string> lines;
  for (int i = 0; i < 500; ++i)
    lines.push_back(event_line("h" + std::to_string(i), "thing.happened"));
  line_client client{n.port()};
  auto answers = client.exchange(lines);
  BOOST_REQUIRE_EQUAL(answers.size(), lines.size());
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return healthy.count() >= 500; }, 60s),
                        "fast received " << healthy.count() << " of 500");
  BOOST_CHECK_EQUAL(healthy.distinct(), 500u);
  // The slow endpoint still holds its first requests: none of them finished.
  BOOST_CHECK_EQUAL(hanging.count(), 0u);
  hanging.stop(); // release the hung connections before volleyd stops
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

// Many subscribers behind an engine with room for few: each waits for room
// (engine_admission), is woken with room set aside for it, and everything
// arrives once, however the wake-ups interleave.
BOOST_AUTO_TEST_CASE(many_subscribers_share_a_small_engine_and_each_delivery_arrives_once) {
  recording_receiver endpoint{secret_b};
  running_node n;
  const int subscribers = 30, events = 20;
  for (int i = 0; i < subscribers; ++i)
    n.spec.subscribers.push_back(
      {"s" + std::to_string(i), endpoint.url("/s" + std::to_string(i)), {}, secret_b, ""});
  n.spec.extra = "\"http\": {\"max_concurrent\": 8}"; // room for 16: two at a time promised
  n.start();
  std::vector<std::string> lines;
  for (int i = 0; i < events; ++i)
    lines.push_back(event_line("m" + std::to_string(i), "thing.happened"));
  line_client client{n.port()};
  BOOST_REQUIRE_EQUAL(client.exchange(lines).size(), lines.size());
  const size_t wanted = subscribers * events;
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return endpoint.count() >= wanted; }, 60s),
                        "received " << endpoint.count() << " of " << wanted);
  std::map<std::pair<std::string, std::string>, int> seen; // (subscriber's path, event) -> times
  for (const auto& d : endpoint.all())
    ++seen[{d.target, d.event_id}];
  BOOST_TEST(seen.size() == wanted);
  for (const auto& [key, times] : seen)
    BOOST_CHECK_MESSAGE(times == 1, key.first << " " << key.second << " arrived " << times << " times");
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_backlog_larger_than_the_memory_budget_waits_on_disk_and_is_delivered_once) {
  // 200 events of 40 KB (8 MB) behind an endpoint that refuses them, with
  // a 1 MiB budget: memory holds what fits, the rest waits on disk.
  std::atomic<bool> down{true};
  std::mutex mutex;
  std::map<std::string, int> delivered; // event id -> 2xx answers
  recording_receiver endpoint{"", 0, [&](const volley::received_request& req) {
                                volley::receiver_reply reply;
                                if (down) {
                                  reply.status = 503;
                                  return reply;
                                }
                                std::lock_guard<std::mutex> guard{mutex};
                                ++delivered[req.header("webhook-id")];
                                return reply;
                              }};
  running_node n;
  n.spec.subscribers = {{"big", endpoint.url(), {}, "", "\"max_attempts\": 1000"}};
  n.spec.extra = "\"queue\": {\"memory_mb\": 1}";
  n.start();
  const std::string data(40000, 'x');
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i)
    lines.push_back("{\"type\":\"bulk\",\"id\":\"b" + std::to_string(i) + "\",\"data\":\"" + data + "\"}");
  line_client client{n.port()};
  auto answers = client.exchange(lines);
  BOOST_REQUIRE_EQUAL(answers.size(), lines.size());
  for (const auto& a : answers)
    BOOST_REQUIRE(parse_answer(a).ok);

  control_client control{n.port()};
  node_stats stats;
  BOOST_REQUIRE(wait_until([&] {
    stats = control.stats();
    return stats.subscribers["big"].backlog_on_disk && stats.subscribers["big"].attempts_total > 0;
  }));
  BOOST_TEST(stats.memory_budget_bytes == 1 << 20);
  BOOST_TEST(stats.memory_used_bytes > 0);
  BOOST_TEST(stats.memory_used_bytes <= stats.memory_budget_bytes);
  BOOST_TEST(stats.subscribers["big"].queued < 200);

  down = false;
  BOOST_REQUIRE_MESSAGE(wait_until(
                          [&] {
                            std::lock_guard<std::mutex> guard{mutex};
                            return delivered.size() == 200;
                          },
                          60s),
                        "delivered " << delivered.size() << " of 200");
  {
    std::lock_guard<std::mutex> guard{mutex};
    for (const auto& [id, times] : delivered)
      BOOST_CHECK_MESSAGE(times == 1, id << " delivered " << times << " times");
  }
  // Every byte comes back once the queue is empty.
  BOOST_TEST(wait_until([&] { return control.stats().memory_used_bytes == 0; }));
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(every_bad_line_gets_its_error_and_the_stream_goes_on) {
  recording_receiver sink;
  running_node n;
  n.spec.extra = "\"defaults\": {\"max_attempts\": 3}";
  n.spec.subscribers = {{"all", sink.url(), {}, "", ""}};
  // A small line limit so the over-long case stays cheap.
  n.spec.extra += ", \"queue\": {\"memory_limit\": 1000}";
  n.start();
  struct bad_case {
    std::string line;
    std::string error_contains;
  };
  std::string long_line = "{\"type\":\"x\",\"data\":\"" + std::string(2 << 20, 'a') + "\"}";
  std::vector<bad_case> cases = {
    {"not json at all", "invalid JSON"},
    {"{\"type\":\"x\"", "invalid JSON"},
    {"[1,2,3]", "JSON object"},
    {"{\"data\":{}}", "\"type\" is required"},
    {"{\"type\":\"\"}", "\"type\" must be a non-empty string"},
    {"{\"type\":42}", "\"type\" must be a non-empty string"},
    {"{\"type\":\"x\",\"priority\":7}", "\"priority\""},
    {"{\"type\":\"x\",\"priority\":-1}", "\"priority\""},
    {"{\"type\":\"x\",\"priority\":\"high\"}", "\"priority\""},
    {"{\"type\":\"x\",\"id\":5}", "\"id\""},
    {"{\"type\":\"x\",\"surprise\":1}", "unknown field"},
    {"", "empty line"},
    {long_line, "longer than"},
    {"{\"op\":\"no.such.op\"}", "unknown op"},
  };
  line_client client{n.port()};
  int good = 0;
  for (const auto& c : cases) {
    client.send_line(c.line);
    auto bad = client.read_line();
    BOOST_REQUIRE_MESSAGE(bad, "no answer to a bad line");
    auto a = parse_answer(*bad);
    BOOST_CHECK_MESSAGE(!a.ok, "accepted: " << c.line.substr(0, 80));
    BOOST_CHECK_MESSAGE(a.error.find(c.error_contains) != std::string::npos,
                        "error '" << a.error << "' lacks '" << c.error_contains << "'");
    auto id = "good-" + std::to_string(good++);
    client.send_line(event_line(id, "after.bad"));
    auto ok = client.read_line();
    BOOST_REQUIRE(ok);
    auto b = parse_answer(*ok);
    BOOST_CHECK(b.ok);
    BOOST_CHECK_EQUAL(b.id, id);
  }
  // A pipelined mix keeps its order too.
  auto answers = client.exchange({event_line("m1", "x"), "garbage", event_line("m2", "x")});
  BOOST_REQUIRE_EQUAL(answers.size(), 3u);
  BOOST_CHECK_EQUAL(parse_answer(answers[0]).id, "m1");
  BOOST_CHECK(!parse_answer(answers[1]).ok);
  BOOST_CHECK_EQUAL(parse_answer(answers[2]).id, "m2");
  BOOST_CHECK(wait_until([&] { return sink.distinct() >= static_cast<size_t>(good) + 2; }));
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(acknowledged_deliveries_survive_a_restart_with_the_endpoint_down) {
  auto endpoint_port = free_port(); // nothing listens here yet
  running_node n;
  n.spec.subscribers = {{"later",
                         "http://127.0.0.1:" + std::to_string(endpoint_port) + "/hook",
                         {},
                         secret_a,
                         "\"max_attempts\": 1000"}};
  n.start();
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i)
    lines.push_back(event_line("r" + std::to_string(i), "restart.test"));
  {
    line_client client{n.port()};
    auto answers = client.exchange(lines);
    BOOST_REQUIRE_EQUAL(answers.size(), lines.size());
    for (auto& a : answers)
      BOOST_REQUIRE(parse_answer(a).ok);
  }
  BOOST_CHECK_EQUAL(n.stop(), 0);

  recording_receiver receiver{secret_a, endpoint_port};
  n.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return receiver.distinct() >= 300; }, 120s),
                        "received " << receiver.distinct() << " of 300 after restart");
  BOOST_CHECK_EQUAL(receiver.invalid_signatures(), 0u);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

// Subscribers' results may wait up to outcome_interval_ms for a commit; a
// stop commits whatever still waits, so nothing delivered stays pending.
BOOST_AUTO_TEST_CASE(a_stop_commits_the_results_still_waiting) {
  recording_receiver sink;
  running_node n;
  n.spec.storage_extra = "\"outcome_interval_ms\": 1000";
  n.spec.subscribers = {{"all", sink.url(), {}, "", ""}};
  n.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i)
    ids.push_back("o" + std::to_string(i));
  publish_events(n.port(), ids, "outcome.test");
  BOOST_REQUIRE(wait_until([&] { return sink.distinct() >= 50; }));
  BOOST_REQUIRE_EQUAL(n.stop(), 0);
  std::string error;
  auto db = volley::lmdb_store::open(n.spec.data_dir, 64, error);
  BOOST_REQUIRE_MESSAGE(db, error);
  auto pending = db->count_pending_total();
  BOOST_REQUIRE(pending);
  BOOST_TEST(*pending == 0u);
}

BOOST_AUTO_TEST_CASE(a_batch_interval_still_acknowledges_and_delivers_everything) {
  recording_receiver sink;
  running_node n;
  // Small batches: some commits are cut short by batch_max, leaving their
  // delayed flush stale; others wait out the interval.
  n.spec.storage_extra = "\"batch_interval_ms\": 20, \"batch_max\": 64";
  n.spec.subscribers = {{"all", sink.url(), {}, "", ""}};
  n.start();
  {
    // A lone event is committed once the interval is up.
    line_client client{n.port()};
    auto answers = client.exchange({event_line("lone", "batch.test")});
    BOOST_REQUIRE_EQUAL(answers.size(), 1u);
    BOOST_CHECK(parse_answer(answers[0]).ok);
  }
  constexpr int connections = 2;
  constexpr int per_connection = 500;
  std::vector<std::vector<std::string>> answers(connections);
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c)
    clients.emplace_back([&, c] {
      std::vector<std::string> lines;
      for (int i = 0; i < per_connection; ++i)
        lines.push_back(event_line("b" + std::to_string(c) + "-" + std::to_string(i), "batch.test"));
      line_client client{n.port()};
      answers[c] = client.exchange(lines);
    });
  for (auto& t : clients)
    t.join();
  for (int c = 0; c < connections; ++c) {
    BOOST_REQUIRE_EQUAL(answers[c].size(), static_cast<size_t>(per_connection));
    for (int i = 0; i < per_connection; ++i) {
      auto a = parse_answer(answers[c][i]);
      BOOST_REQUIRE_MESSAGE(a.ok, answers[c][i]);
      BOOST_REQUIRE_EQUAL(a.id, "b" + std::to_string(c) + "-" + std::to_string(i));
    }
  }
  const size_t want = connections * per_connection + 1;
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return sink.distinct() >= want; }, 60s),
                        "delivered " << sink.distinct() << " of " << want);
  BOOST_CHECK_EQUAL(sink.count(), want);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_bad_config_is_refused_with_the_key_named) {
  temp_dir dir;
  auto path = dir.file("bad.json");
  write_file(path, R"({"ingress": {"port": 99999}, "subscribers": [{"name": "x", "url": "ftp://nope"}]})");
  std::string out;
  int code = run_command(std::string{VOLLEYD_PATH} + " --check-config " + path, out);
  BOOST_CHECK_NE(code, 0);
  BOOST_CHECK_MESSAGE(out.find("ingress.port") != std::string::npos, out);
  BOOST_CHECK_MESSAGE(out.find("subscribers[0].url") != std::string::npos, out);

  code = run_command(std::string{VOLLEYD_PATH} + " --config " + path, out);
  BOOST_CHECK_NE(code, 0);
  BOOST_CHECK_MESSAGE(out.find("ingress.port") != std::string::npos, out);

  write_file(path, "{not json");
  code = run_command(std::string{VOLLEYD_PATH} + " --check-config " + path, out);
  BOOST_CHECK_NE(code, 0);
  BOOST_CHECK_MESSAGE(out.find("config error") != std::string::npos, out);
}
