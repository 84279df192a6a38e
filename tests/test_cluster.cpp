// Cluster mode end to end: real volleyd processes on librdkafka's mock Kafka
// cluster (real Kafka protocol over TCP on 127.0.0.1, in a process of its
// own), real receivers checking signatures, real LMDB directories. Waits are
// deadline polls; the mock's rebalances take seconds, so deadlines are
// generous and nothing is timed.
#define BOOST_TEST_MODULE cluster
#include <boost/test/unit_test.hpp>

#include "tests/support/control_client.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/mock_kafka.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/scripted_receiver.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace volley;
using namespace volley::test;
using namespace std::chrono_literals;

namespace {

const std::string events_topic = "volley.events";
const std::string changelog_topic = "volley.changelog";
constexpr const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The mock's group timings: rebalances in seconds, not tens of seconds.
// (Below 4000 ms of session timeout the 2.0.2 mock drops a first join.)
const std::string test_kafka = R"("session.timeout.ms": "4000", "heartbeat.interval.ms": "500",
  "fetch.wait.max.ms": "100", "reconnect.backoff.max.ms": "1000", "message.timeout.ms": "3000")";

struct sub_spec {
  std::string name;
  std::string url;
  std::string events; // a JSON array's inside, e.g. "\"order.*\""
  std::string extra;  // more members
};

std::string subscriber_json(const sub_spec& s) {
  return "{\"name\": \"" + s.name + "\", \"url\": \"" + s.url + "\", \"events\": [" + s.events +
         "], \"secret\": \"" + secret +
         "\", \"backoff\": {\"base_ms\": 200, \"max_ms\": 1000}, "
         "\"breaker\": {\"cooldown_ms\": 500, \"max_cooldown_ms\": 1000}, \"max_attempts\": 1000" +
         (s.extra.empty() ? "" : ", " + s.extra) + "}";
}

// One volleyd of the cluster: its own data directory, port 0.
class cluster_node {
public:
  cluster_node(std::string name, const mock_kafka& kafka, std::vector<sub_spec> subs)
    : name_(std::move(name)), bootstrap_(kafka.bootstrap()), subs_(std::move(subs)) {}

  void start() { node_.start(config()); }
  std::string config() const {
    std::string subs;
    for (const auto& s : subs_)
      subs += (subs.empty() ? "" : ", ") + subscriber_json(s);
    return "{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + node_.spec.data_dir +
           "\", \"map_size_mb\": 256}, \"monitor\": {\"interval_ms\": 1000}, "
           "\"allow_private_networks\": true, \"cluster\": {\"brokers\": \"" +
           bootstrap_ + "\", \"node\": \"" + name_ + "\", \"kafka\": {" + test_kafka +
           "}}, \"subscribers\": [" + subs + "]}";
  }
  int stop() { return node_.stop(); }
  void kill() { node_.process().kill_hard(); }
  bool running() { return node_.process().running(); }
  uint16_t port() const { return node_.port(); }
  std::string log() const { return node_.log(); }
  const std::string& name() const { return name_; }

  // The partitions this node owns now, from its stats.
  std::vector<int> partitions() {
    try {
      line_client c{port()};
      c.send_line(R"({"op":"stats"})");
      auto line = c.read_line(5s);
      if (!line)
        return {};
      rapidjson::Document doc;
      doc.Parse(line->c_str());
      if (doc.HasParseError() || !doc.HasMember("cluster"))
        return {};
      std::vector<int> out;
      for (const auto& p : doc["cluster"]["partitions"].GetArray())
        out.push_back(p.GetInt());
      return out;
    } catch (const std::exception&) {
      return {};
    }
  }

  // Pending deliveries and DLQ entries on this node's disk, by its `queue` op.
  std::pair<int64_t, int64_t> queue_sizes() {
    control_client c{port()};
    auto line = c.call(R"({"op":"queue"})");
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    return {doc["pending"].GetInt64(), doc["dlq"].GetInt64()};
  }

private:
  std::string name_;
  std::string bootstrap_;
  std::vector<sub_spec> subs_;
  running_node node_;
};

// Every partition owned by exactly one of the running nodes given.
bool settled(std::vector<cluster_node*> nodes, int partitions) {
  std::multiset<int> seen;
  for (auto* n : nodes) {
    auto own = n->partitions();
    if (own.empty())
      return false; // each running node takes a share
    seen.insert(own.begin(), own.end());
  }
  if (static_cast<int>(seen.size()) != partitions)
    return false;
  for (int p = 0; p < partitions; ++p)
    if (seen.count(p) != 1)
      return false;
  return true;
}

std::string event_line(const std::string& id, const std::string& type, int n) {
  return "{\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"data\":{\"n\":" + std::to_string(n) + "}}";
}

bool acked(const std::string& line, const std::string& id) {
  return line.find("\"ok\":true") != std::string::npos && line.find("\"" + id + "\"") != std::string::npos;
}

// Sends `lines` on one connection and returns the ids answered ok.
std::set<std::string> publish(uint16_t port, const std::vector<std::pair<std::string, std::string>>& events) {
  std::vector<std::string> lines;
  for (const auto& e : events)
    lines.push_back(e.second);
  line_client c{port};
  auto answers = c.exchange(lines, 120s);
  std::set<std::string> ok;
  for (size_t i = 0; i < answers.size() && i < events.size(); ++i)
    if (acked(answers[i], events[i].first))
      ok.insert(events[i].first);
  return ok;
}

std::set<std::string> received_ids(const recording_receiver& r) {
  std::set<std::string> out;
  for (const auto& [id, n] : r.per_event())
    out.insert(id);
  return out;
}

size_t duplicates(const recording_receiver& r) {
  size_t n = 0;
  for (const auto& [id, times] : r.per_event())
    n += times - 1;
  return n;
}

std::vector<std::string> missing(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::vector<std::string> out;
  for (const auto& id : want)
    if (got.count(id) == 0)
      out.push_back(id);
  return out;
}

std::string first_few(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 5; ++i)
    out += ids[i] + " ";
  return out;
}

} // namespace

// ============================================================================
BOOST_AUTO_TEST_CASE(three_nodes_deliver_exactly_what_each_filter_matches) {
  mock_kafka kafka{{{events_topic, 6}, {changelog_topic, 6}}};
  recording_receiver all{secret}, orders{secret}, paid{secret};
  std::vector<sub_spec> subs = {{"all", all.url(), "", ""},
                                {"orders", orders.url(), "\"order.*\"", ""},
                                {"paid", paid.url(), "\"*.paid\"", ""}};
  cluster_node a{"node-a", kafka, subs}, b{"node-b", kafka, subs}, c{"node-c", kafka, subs};
  a.start();
  b.start();
  c.start();
  BOOST_REQUIRE_MESSAGE(wait_until(
                          [&] {
                            return settled({&a, &b, &c}, 6);
                          },
                          90s),
                        "the partitions never settled over the three nodes:\n"
                          << a.log());

  const std::vector<std::string> types = {"order.created", "order.paid", "invoice.paid", "user.signup"};
  std::set<std::string> want_all, want_orders, want_paid;
  auto expect = [&](const std::string& id, const std::string& type) {
    want_all.insert(id);
    if (type.rfind("order.", 0) == 0)
      want_orders.insert(id);
    if (type.size() > 5 && type.compare(type.size() - 5, 5, ".paid") == 0)
      want_paid.insert(id);
  };
  // 15,000 through the nodes' TCP ingress, 5,000 each.
  size_t refused = 0;
  std::vector<std::thread> publishers;
  std::vector<std::set<std::string>> acked_by(3);
  cluster_node* nodes[] = {&a, &b, &c};
  for (int i = 0; i < 3; ++i)
    publishers.emplace_back([&, i] {
      std::vector<std::pair<std::string, std::string>> events;
      for (int n = 0; n < 5000; ++n) {
        auto id = "t" + std::to_string(i) + "-" + std::to_string(n);
        events.emplace_back(id, event_line(id, types[static_cast<size_t>(n) % types.size()], n));
      }
      acked_by[static_cast<size_t>(i)] = publish(nodes[i]->port(), events);
    });
  // 15,000 straight to the topic by a plain producer.
  std::vector<mock_kafka::record_to_write> direct;
  for (int n = 0; n < 15000; ++n) {
    auto id = "k-" + std::to_string(n);
    direct.push_back({id, event_line(id, types[static_cast<size_t>(n) % types.size()], n), std::nullopt});
  }
  auto deliveries = kafka.produce_all(events_topic, direct);
  for (auto& t : publishers)
    t.join();
  for (size_t i = 0; i < direct.size(); ++i) {
    if (!deliveries[i].error.empty()) {
      ++refused;
      continue;
    }
    expect(direct[i].key, types[i % types.size()]);
  }
  for (int i = 0; i < 3; ++i)
    for (const auto& id : acked_by[static_cast<size_t>(i)]) {
      auto n = std::stoi(id.substr(id.find('-') + 1));
      expect(id, types[static_cast<size_t>(n) % types.size()]);
    }
  refused += 15000 - (acked_by[0].size() + acked_by[1].size() + acked_by[2].size());
  BOOST_CHECK_EQUAL(refused, 0u);

  bool complete = wait_until(
    [&] {
      return all.distinct() >= want_all.size() && orders.distinct() >= want_orders.size() &&
             paid.distinct() >= want_paid.size();
    },
    240s);
  auto got_all = received_ids(all), got_orders = received_ids(orders), got_paid = received_ids(paid);
  BOOST_CHECK_MESSAGE(complete && missing(want_all, got_all).empty(),
                      "all: " << missing(want_all, got_all).size() << " of " << want_all.size()
                              << " missing: " << first_few(missing(want_all, got_all)));
  BOOST_CHECK_MESSAGE(missing(want_orders, got_orders).empty(),
                      "orders: " << missing(want_orders, got_orders).size() << " missing");
  BOOST_CHECK_MESSAGE(missing(want_paid, got_paid).empty(),
                      "paid: " << missing(want_paid, got_paid).size() << " missing");
  // Exactly what each filter matches: nothing else arrived.
  BOOST_CHECK(missing(got_orders, want_orders).empty());
  BOOST_CHECK(missing(got_paid, want_paid).empty());
  BOOST_CHECK(missing(got_all, want_all).empty());
  BOOST_CHECK_EQUAL(all.invalid_signatures() + orders.invalid_signatures() + paid.invalid_signatures(), 0u);
  BOOST_TEST_MESSAGE("30,000 events over 3 nodes: duplicates all " << duplicates(all) << ", orders "
                                                                   << duplicates(orders) << ", paid "
                                                                   << duplicates(paid));
  for (auto* n : nodes)
    BOOST_CHECK_EQUAL(n->stop(), 0);
}

// ============================================================================
BOOST_AUTO_TEST_CASE(a_killed_nodes_pending_retries_and_dead_letters_move_to_the_survivors) {
  mock_kafka kafka{{{events_topic, 4}, {changelog_topic, 4}}};
  recording_receiver fine{secret};
  // "strict" turns away every event whose number ends in 7: dead letters.
  recording_receiver strict{secret, 0, [](const received_request& req) {
                              receiver_reply r;
                              auto at = req.body.find("\"n\":");
                              auto digits = req.body.substr(at + 4, req.body.find('}', at) - at - 4);
                              if (!digits.empty() && digits.back() == '7')
                                r.status = 404;
                              return r;
                            }};
  auto down_port = free_port(); // "later" is down until the end
  std::vector<sub_spec> subs = {{"fine", fine.url(), "", ""},
                                {"strict", strict.url(), "", ""},
                                {"later", "http://127.0.0.1:" + std::to_string(down_port) + "/hook", "", ""}};
  auto a = std::make_unique<cluster_node>("node-a", kafka, subs);
  auto b = std::make_unique<cluster_node>("node-b", kafka, subs);
  auto c = std::make_unique<cluster_node>("node-c", kafka, subs);
  a->start();
  b->start();
  c->start();
  BOOST_REQUIRE(wait_until([&] { return settled({a.get(), b.get(), c.get()}, 4); }, 90s));

  std::vector<std::pair<std::string, std::string>> events;
  for (int n = 0; n < 600; ++n) {
    auto id = "e-" + std::to_string(n);
    events.emplace_back(id, event_line(id, "order.created", n));
  }
  auto ok = publish(a->port(), events);
  BOOST_REQUIRE_EQUAL(ok.size(), events.size());
  std::set<std::string> want_dlq;
  for (const auto& id : ok)
    if (id.back() == '7')
      want_dlq.insert(id);
  // Consumed and applied everywhere: "fine" has them all; "strict" answered.
  BOOST_REQUIRE(
    wait_until([&] { return fine.distinct() >= ok.size() && strict.distinct() >= ok.size(); }, 120s));
  int64_t dlq_before = 0;
  BOOST_REQUIRE(wait_until(
    [&] {
      dlq_before = a->queue_sizes().second + b->queue_sizes().second + c->queue_sizes().second;
      return dlq_before == static_cast<int64_t>(want_dlq.size());
    },
    60s));

  // kill -9 a node while "later" has every delivery pending (retrying).
  c->kill();
  BOOST_REQUIRE_MESSAGE(wait_until(
                          [&] {
                            return settled({a.get(), b.get()}, 4);
                          },
                          90s),
                        "the survivors never took the dead node's partitions");
  // The dead-letter entries the dead node held are the survivors' now.
  BOOST_CHECK(wait_until(
    [&] {
      return a->queue_sizes().second + b->queue_sizes().second == static_cast<int64_t>(want_dlq.size());
    },
    30s));

  // The endpoint comes back: every acknowledged delivery arrives.
  recording_receiver later{secret, down_port};
  bool complete = wait_until([&] { return later.distinct() >= ok.size(); }, 180s);
  auto lost = missing(ok, received_ids(later));
  BOOST_CHECK_MESSAGE(complete && lost.empty(),
                      "later lost " << lost.size() << " of " << ok.size() << ": " << first_few(lost));
  BOOST_CHECK_EQUAL(later.invalid_signatures(), 0u);
  BOOST_TEST_MESSAGE("after kill -9: later got " << later.count() << " requests for " << ok.size()
                                                 << " events (" << duplicates(later) << " duplicates)");

  // The killed node comes back: partitions move back to it, nothing lost.
  c = std::make_unique<cluster_node>("node-c", kafka, subs);
  c->start();
  BOOST_REQUIRE(wait_until([&] { return settled({a.get(), b.get(), c.get()}, 4); }, 90s));
  std::vector<std::pair<std::string, std::string>> more;
  for (int n = 600; n < 900; ++n) {
    auto id = "e-" + std::to_string(n);
    more.emplace_back(id, event_line(id, "order.created", n));
  }
  auto ok_more = publish(c->port(), more);
  BOOST_REQUIRE_EQUAL(ok_more.size(), more.size());
  BOOST_CHECK(wait_until([&] { return later.distinct() >= ok.size() + ok_more.size(); }, 120s));
  auto dlq_after = a->queue_sizes().second + b->queue_sizes().second + c->queue_sizes().second;
  BOOST_CHECK(wait_until(
    [&] {
      dlq_after = a->queue_sizes().second + b->queue_sizes().second + c->queue_sizes().second;
      return dlq_after == static_cast<int64_t>(want_dlq.size() + 30);
    },
    60s));
  BOOST_TEST_MESSAGE("dead letters across the nodes: " << dlq_after);
  BOOST_CHECK_EQUAL(a->stop(), 0);
  BOOST_CHECK_EQUAL(b->stop(), 0);
  BOOST_CHECK_EQUAL(c->stop(), 0);
}

// ============================================================================
BOOST_AUTO_TEST_CASE(a_rolling_restart_under_load_loses_nothing) {
  mock_kafka kafka{{{events_topic, 4}, {changelog_topic, 4}}};
  recording_receiver sink{secret};
  std::vector<sub_spec> subs = {{"sink", sink.url(), "", ""}};
  std::vector<std::unique_ptr<cluster_node>> nodes;
  for (auto name : {"node-a", "node-b", "node-c"}) {
    nodes.push_back(std::make_unique<cluster_node>(name, kafka, subs));
    nodes.back()->start();
  }
  BOOST_REQUIRE(wait_until(
    [&] {
      return settled({nodes[0].get(), nodes[1].get(), nodes[2].get()}, 4);
    },
    90s));

  // A producer writes straight to the topic the whole time (at most 30,000
  // events: the mock keeps 5 MiB per partition and never compacts).
  std::atomic<bool> stop{false};
  std::set<std::string> acknowledged;
  std::thread load{[&] {
    for (int batch = 0; !stop && batch < 150; ++batch) {
      if (batch > 0)
        std::this_thread::sleep_for(100ms); // pacing the load, not waiting for a result
      std::vector<mock_kafka::record_to_write> records;
      for (int n = 0; n < 200; ++n) {
        auto id = "r" + std::to_string(batch) + "-" + std::to_string(n);
        records.push_back({id, event_line(id, "x.y", n), std::nullopt});
      }
      auto answers = kafka.produce_all(events_topic, records);
      for (size_t i = 0; i < answers.size(); ++i)
        if (answers[i].error.empty())
          acknowledged.insert(records[i].key);
    }
  }};
  for (auto& n : nodes) {
    BOOST_CHECK_EQUAL(n->stop(), 0); // SIGTERM: its partitions are handed over
    n->start();
    std::vector<cluster_node*> all;
    for (auto& m : nodes)
      all.push_back(m.get());
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return settled(all, 4); }, 90s),
                          "not settled after restarting " << n->name());
  }
  stop = true;
  load.join();
  bool complete = wait_until([&] { return sink.distinct() >= acknowledged.size(); }, 180s);
  auto lost = missing(acknowledged, received_ids(sink));
  BOOST_CHECK_MESSAGE(complete && lost.empty(),
                      "lost " << lost.size() << " of " << acknowledged.size() << ": " << first_few(lost));
  BOOST_TEST_MESSAGE("rolling restart: " << acknowledged.size() << " events, " << duplicates(sink)
                                         << " duplicates");
  for (auto& n : nodes)
    BOOST_CHECK_EQUAL(n->stop(), 0);
}

// ============================================================================
BOOST_AUTO_TEST_CASE(brokers_away_at_start_and_mid_run_are_errors_not_losses) {
  mock_kafka kafka{{{events_topic, 2}, {changelog_topic, 2}}};
  recording_receiver sink{secret};
  cluster_node n{"node-a", kafka, {{"sink", sink.url(), "", ""}}};
  kafka.down();
  n.start(); // starts; says why it cannot work yet
  BOOST_CHECK(n.log().find("do not answer") != std::string::npos);
  {
    line_client c{n.port()};
    c.send_line(event_line("while-down", "x", 1));
    auto answer = c.read_line(30s); // the produce timeout (3 s here) answers it
    BOOST_REQUIRE(answer);
    BOOST_CHECK_MESSAGE(answer->find("\"ok\":false") != std::string::npos, *answer);
  }
  kafka.up();
  BOOST_REQUIRE(wait_until([&] { return settled({&n}, 2); }, 90s));
  std::vector<std::pair<std::string, std::string>> first;
  for (int i = 0; i < 50; ++i)
    first.emplace_back("a-" + std::to_string(i), event_line("a-" + std::to_string(i), "x", i));
  auto ok = publish(n.port(), first);
  BOOST_CHECK_EQUAL(ok.size(), first.size());
  BOOST_REQUIRE(wait_until([&] { return sink.distinct() >= ok.size(); }, 60s));

  // Mid-run: every answer is an answer, and nothing acknowledged is lost.
  kafka.down();
  std::vector<std::pair<std::string, std::string>> during;
  for (int i = 0; i < 20; ++i)
    during.emplace_back("b-" + std::to_string(i), event_line("b-" + std::to_string(i), "x", i));
  auto ok_during = publish(n.port(), during); // each answered, ok or not
  kafka.up();
  std::vector<std::pair<std::string, std::string>> after;
  for (int i = 0; i < 50; ++i)
    after.emplace_back("c-" + std::to_string(i), event_line("c-" + std::to_string(i), "x", i));
  std::set<std::string> ok_after;
  BOOST_REQUIRE(wait_until(
    [&] {
      ok_after = publish(n.port(), after);
      return ok_after.size() == after.size();
    },
    60s));
  std::set<std::string> want = ok;
  want.insert(ok_during.begin(), ok_during.end());
  want.insert(ok_after.begin(), ok_after.end());
  bool complete = wait_until([&] { return missing(want, received_ids(sink)).empty(); }, 90s);
  BOOST_CHECK_MESSAGE(complete, "lost " << missing(want, received_ids(sink)).size());
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

// ============================================================================
BOOST_AUTO_TEST_CASE(a_malformed_record_is_counted_and_skipped) {
  mock_kafka kafka{{{events_topic, 1}, {changelog_topic, 1}}};
  recording_receiver sink{secret};
  cluster_node n{"node-a", kafka, {{"sink", sink.url(), "", ""}}};
  n.start();
  BOOST_REQUIRE(wait_until([&] { return settled({&n}, 1); }, 90s));
  auto answers = kafka.produce_all(events_topic, {{"x", std::string{"not json"}, 0},
                                                  {"y", std::string{R"({"type":""})"}, 0},
                                                  {"z", std::nullopt, 0},
                                                  {"ok-1", event_line("ok-1", "a.b", 1), 0}});
  for (const auto& a : answers)
    BOOST_REQUIRE_MESSAGE(a.error.empty(), a.error);
  BOOST_REQUIRE(wait_until([&] { return sink.distinct() == 1; }, 60s));
  BOOST_TEST(received_ids(sink) == std::set<std::string>{"ok-1"});
  control_client c{n.port()};
  BOOST_CHECK(
    wait_until([&] { return c.call(R"({"op":"stats"})").find("\"rejected\":3") != std::string::npos; }, 10s));
  BOOST_CHECK(n.log().find("skipped the record at offset 0 of partition 0") != std::string::npos);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

// ============================================================================
BOOST_AUTO_TEST_CASE(topics_with_different_partition_counts_refuse_to_start) {
  mock_kafka kafka{{{events_topic, 4}, {changelog_topic, 3}}};
  cluster_node n{"node-a", kafka, {}};
  temp_dir dir;
  write_file(dir.file("volley.json"), n.config());
  daemon_process p{dir.file("volley.json"), dir.file("volleyd.log")};
  BOOST_REQUIRE(wait_until([&] { return !p.running(); }, 60s));
  auto log = p.log();
  BOOST_CHECK_MESSAGE(log.find("has 4 partitions but cluster.changelog_topic") != std::string::npos, log);
  BOOST_CHECK(log.find("listening on") == std::string::npos);
}
