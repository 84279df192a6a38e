#define BOOST_TEST_MODULE kafka_mock
#include <boost/test/unit_test.hpp>

// What librdkafka 2.0.2's mock cluster really does, found by experiment and
// kept as assertions, against volley-mock-kafka in its own process and with
// the settings cluster/kafka_settings.cpp gives volleyd's clients. Durations
// are printed for the record, never asserted.

#include "cluster/kafka_ptr.hpp"
#include "cluster/kafka_settings.hpp"
#include "cluster/partition_reader.hpp"
#include "cluster/topic_partitions.hpp"
#include "tests/support/mock_kafka.hpp"
#include "tests/support/wait.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <map>
#include <set>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace volley;
using namespace volley::test;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Test overrides that make the mock's group settle fast. The mock waits
// session.timeout.ms - 1000 for members to (re)join each rebalance round,
// but always 3000 ms on a group's first join, and expires a member waiting
// in that first join once session.timeout.ms passes: below about 4000 the
// first member is dropped and its JoinGroup never answered. A fetch that
// finds no data waits the whole fetch.wait.max.ms. Reconnecting after
// "up" backs off up to reconnect.backoff.max.ms.
const std::vector<std::pair<std::string, std::string>> fast_settings = {
  {"session.timeout.ms", "4000"},
  {"heartbeat.interval.ms", "500"},
  {"fetch.wait.max.ms", "100"},
  {"reconnect.backoff.max.ms", "1000"},
};

constexpr auto settle_timeout = 60s; // generous: the machine is shared

cluster_config cluster_on(const std::string& bootstrap, const std::string& group,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
  cluster_config cluster;
  cluster.brokers = bootstrap;
  cluster.group = group;
  cluster.node = "test";
  cluster.kafka = fast_settings;
  cluster.kafka.insert(cluster.kafka.end(), extra.begin(), extra.end());
  return cluster;
}

cluster_config cluster_on(const mock_kafka& kafka, const std::string& group,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
  return cluster_on(kafka.bootstrap(), group, std::move(extra));
}

long ms_since(steady::time_point start) {
  return static_cast<long>(
    std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count());
}

std::set<int32_t> partitions_upto(int32_t count) {
  std::set<int32_t> all;
  for (int32_t p = 0; p < count; ++p)
    all.insert(p);
  return all;
}

std::set<int32_t> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::set<int32_t> partitions;
  for (int i = 0; i < list->cnt; ++i)
    partitions.insert(list->elems[i].partition);
  return partitions;
}

kafka_partition_list list_of(const std::string& topic, const std::map<int32_t, int64_t>& offsets) {
  kafka_partition_list list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [partition, offset] : offsets)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  return list;
}

// A client made from Volley's settings for `role`; fails the test when they
// are refused.
kafka_handle client_for(kafka_role role, const cluster_config& cluster,
                        const std::function<void(rd_kafka_conf_t*)>& add_callbacks = {}) {
  auto built = make_kafka_conf(role, cluster);
  for (const auto& error : built.errors)
    BOOST_FAIL(to_string(error));
  if (add_callbacks)
    add_callbacks(built.conf.get());
  char errstr[512];
  kafka_handle handle(rd_kafka_new(kafka_client_type(role), built.conf.get(), errstr, sizeof(errstr)));
  if (!handle)
    BOOST_FAIL(errstr);
  built.conf.release(); // the client owns it
  return handle;
}

struct rebalance_event {
  bool assign = false; // else revoke
  std::set<int32_t> partitions;
  std::string protocol; // rd_kafka_rebalance_protocol(): "COOPERATIVE" expected
  bool lost = false;    // rd_kafka_assignment_lost()
  std::string error;    // from incremental (un)assign
  long at_ms = 0;       // since the member was made
};

std::string describe(const std::vector<rebalance_event>& events) {
  std::string text;
  for (const auto& event : events) {
    text += std::string(event.assign ? " assign{" : " revoke{");
    for (auto p : event.partitions)
      text += std::to_string(p) + (p == *event.partitions.rbegin() ? "" : ",");
    text += "}@" + std::to_string(event.at_ms) + "ms";
    if (event.lost)
      text += "(lost)";
  }
  return text;
}

// The events that moved partitions.
std::vector<rebalance_event> changes_of(const std::vector<rebalance_event>& events) {
  std::vector<rebalance_event> changes;
  for (const auto& event : events)
    if (!event.partitions.empty())
      changes.push_back(event);
  return changes;
}

// One member of a consumer group on one topic, made with Volley's
// group-consumer settings. Its rebalance callback does what a node does:
// incremental assign/unassign, with hooks where the node would hold a
// partition back or commit, and it can leave partitions unassigned until
// assign_deferred() (a node restoring them). Not thread-safe: poll() serves
// the callbacks.
class consumer_member {
public:
  using hook = std::function<void(rd_kafka_t*, const rd_kafka_topic_partition_list_t*)>;

  consumer_member(const cluster_config& cluster, const std::string& topic, hook on_assigned = {},
                  hook on_revoking = {})
    : on_assigned_(std::move(on_assigned)), on_revoking_(std::move(on_revoking)) {
    handle_ = client_for(kafka_role::group_consumer, cluster, [this](rd_kafka_conf_t* conf) {
      rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
      rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
      rd_kafka_conf_set_opaque(conf, this);
    });
    rd_kafka_poll_set_consumer(handle_.get());
    kafka_partition_list topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    auto err = rd_kafka_subscribe(handle_.get(), topics.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("subscribe: ") + rd_kafka_err2str(err));
  }
  ~consumer_member() { close(); }
  consumer_member(const consumer_member&) = delete;
  consumer_member& operator=(const consumer_member&) = delete;

  // Serves callbacks and keeps the records that arrived.
  void poll() {
    if (closed_)
      return;
    while (kafka_message message{rd_kafka_consumer_poll(handle_.get(), 0)}) {
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        errors_.push_back(rd_kafka_message_errstr(message.get()));
        continue;
      }
      records_.push_back(record_of(*message));
    }
  }

  // Leaves the group at once (the rebalance callback runs inside).
  void close() {
    if (closed_ || !handle_)
      return;
    rd_kafka_consumer_close(handle_.get());
    closed_ = true;
  }

  // Leaves partitions of later assignments unassigned until assign_deferred().
  void defer(std::set<int32_t> partitions) { defer_ = std::move(partitions); }
  bool has_deferred() const { return deferred_ && deferred_->cnt > 0; }
  // incremental_assign() of what the callback left, outside any callback.
  std::string assign_deferred() {
    kafka_error error(rd_kafka_incremental_assign(handle_.get(), deferred_.get()));
    if (error)
      return rd_kafka_error_string(error.get());
    auto partitions = partitions_of(deferred_.get());
    assigned_.insert(partitions.begin(), partitions.end());
    deferred_.reset();
    return "";
  }

  // Closes, then destroys on another thread; false if rd_kafka_destroy()
  // has not returned within `timeout` (the thread and the client are then
  // left behind).
  bool destroyed_within(std::chrono::milliseconds timeout) {
    close();
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread([handle = handle_.release(), done] {
      rd_kafka_destroy(handle);
      *done = true;
    }).detach();
    return wait_until([&] { return done->load(); }, timeout);
  }

  // Closes and never destroys: see paused_partition_... below.
  void close_and_leak() {
    close();
    handle_.release();
  }

  rd_kafka_t* handle() { return handle_.get(); }
  const std::set<int32_t>& assigned() const { return assigned_; }
  const std::vector<rebalance_event>& events() const { return events_; }
  const std::vector<kafka_record>& records() const { return records_; }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<std::string>& commit_results() const { return commit_results_; }

private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<consumer_member*>(opaque);
    rebalance_event event;
    event.assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    event.partitions = partitions_of(partitions);
    event.protocol = rd_kafka_rebalance_protocol(rk);
    event.lost = rd_kafka_assignment_lost(rk) != 0;
    event.at_ms = ms_since(self->made_);
    if (event.assign) {
      kafka_partition_list now(rd_kafka_topic_partition_list_new(partitions->cnt));
      for (int i = 0; i < partitions->cnt; ++i) {
        const auto& element = partitions->elems[i];
        bool later = self->defer_.count(element.partition) > 0;
        if (later && !self->deferred_)
          self->deferred_.reset(rd_kafka_topic_partition_list_new(partitions->cnt));
        rd_kafka_topic_partition_list_add(later ? self->deferred_.get() : now.get(), element.topic,
                                          element.partition);
      }
      kafka_error error(rd_kafka_incremental_assign(rk, now.get()));
      if (error)
        event.error = rd_kafka_error_string(error.get());
      auto assigned_now = partitions_of(now.get());
      self->assigned_.insert(assigned_now.begin(), assigned_now.end());
      if (self->on_assigned_)
        self->on_assigned_(rk, partitions);
    } else {
      if (self->on_revoking_ && !event.lost)
        self->on_revoking_(rk, partitions);
      kafka_error error(rd_kafka_incremental_unassign(rk, partitions));
      if (error)
        event.error = rd_kafka_error_string(error.get());
      for (auto p : event.partitions)
        self->assigned_.erase(p);
    }
    self->events_.push_back(event);
  }

  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*,
                        void* opaque) {
    static_cast<consumer_member*>(opaque)->commit_results_.push_back(rd_kafka_err2name(err));
  }

  steady::time_point made_ = steady::now();
  hook on_assigned_;
  hook on_revoking_;
  std::set<int32_t> defer_;
  kafka_partition_list deferred_; // assigned by the group, not yet by us
  kafka_handle handle_;
  bool closed_ = false;
  std::set<int32_t> assigned_;
  std::vector<rebalance_event> events_;
  std::vector<kafka_record> records_;
  std::vector<std::string> errors_;
  std::vector<std::string> commit_results_;
};

// Polls every member until `condition` holds or the deadline passes.
bool settle(std::initializer_list<consumer_member*> members, const std::function<bool()>& condition,
            std::chrono::milliseconds timeout = settle_timeout) {
  return wait_until(
    [&] {
      for (auto* member : members)
        member->poll();
      return condition();
    },
    timeout);
}

// Serves the members for a span of time the scenario needs to pass (not a
// wait for a result).
void keep_polling(std::initializer_list<consumer_member*> members, std::chrono::milliseconds span) {
  auto end = steady::now() + span;
  while (steady::now() < end) {
    for (auto* member : members)
      member->poll();
    std::this_thread::sleep_for(10ms);
  }
}

bool no_overlap(const std::set<int32_t>& a, const std::set<int32_t>& b) {
  for (auto p : a)
    if (b.count(p) > 0)
      return false;
  return true;
}

std::set<int32_t> united(const std::set<int32_t>& a, const std::set<int32_t>& b) {
  std::set<int32_t> all = a;
  all.insert(b.begin(), b.end());
  return all;
}

// An events-topic producer with Volley's settings, one record at a time.
class event_producer {
public:
  explicit event_producer(const cluster_config& cluster) {
    handle_ = client_for(kafka_role::events_producer, cluster, [this](rd_kafka_conf_t* conf) {
      rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
      rd_kafka_conf_set_opaque(conf, this);
    });
  }

  // Produces and waits for the delivery report; its error, "" when acknowledged.
  std::string produce(const std::string& topic, const std::string& key, const std::string& value) {
    answered_ = false;
    auto err = rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                 RD_KAFKA_V_KEY(key.data(), key.size()),
                                 RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return rd_kafka_err2name(err);
    // message.timeout.ms bounds it; the wait only guards against a hang.
    if (!wait_until([&] { return rd_kafka_poll(handle_.get(), 0), answered_; }, 120s))
      return "no delivery report within 120 s";
    return error_;
  }

  rd_kafka_t* handle() { return handle_.get(); }

private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<event_producer*>(opaque);
    self->answered_ = true;
    self->error_ = message->err == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : rd_kafka_err2name(message->err);
  }

  kafka_handle handle_;
  bool answered_ = false;
  std::string error_;
};

} // namespace

// (a) The topics volley-mock-kafka creates have the partitions asked for; a
// topic nobody created is missing for a consumer, but a producer's metadata
// request creates it with the mock's default of 4 partitions.
BOOST_AUTO_TEST_CASE(metadata_shows_the_partition_counts_created) {
  mock_kafka kafka({{"volley.events", 6}, {"volley.changelog", 6}});
  auto cluster = cluster_on(kafka, "a");
  auto reader = client_for(kafka_role::restore_reader, cluster);

  BOOST_TEST(count_partitions(reader.get(), "volley.events", 10s).count == 6);
  BOOST_TEST(count_partitions(reader.get(), "volley.changelog", 10s).count == 6);
  auto missing = count_partitions(reader.get(), "volley.nothing", 10s);
  BOOST_TEST(missing.count == 0);
  BOOST_TEST(missing.error.find("does not exist") != std::string::npos, missing.error);

  BOOST_TEST(kafka.produce("volley.auto", "k", std::string("v")).error == "");
  BOOST_TEST(count_partitions(reader.get(), "volley.auto", 10s).count == 4);
}

// (b) The idempotent acks=all producer delivers; with every broker down a
// produce fails with a delivery report once message.timeout.ms has passed
// (no hang, no fatal error), and producing works again after up.
BOOST_AUTO_TEST_CASE(idempotent_producer_fails_within_its_timeout_and_recovers) {
  mock_kafka kafka({{"volley.events", 3}});
  event_producer producer(cluster_on(kafka, "b", {{"message.timeout.ms", "3000"}}));

  auto start = steady::now();
  BOOST_TEST(producer.produce("volley.events", "k1", "first") == "");
  BOOST_TEST_MESSAGE("first delivery (connect + producer id + ack): " << ms_since(start) << " ms");

  kafka.down();
  start = steady::now();
  BOOST_TEST(producer.produce("volley.events", "k2", "second") == "_MSG_TIMED_OUT");
  BOOST_TEST_MESSAGE("with brokers down, delivery report after " << ms_since(start)
                                                                 << " ms (message.timeout.ms 3000)");
  char errstr[256];
  BOOST_TEST(rd_kafka_fatal_error(producer.handle(), errstr, sizeof(errstr)) == RD_KAFKA_RESP_ERR_NO_ERROR);

  kafka.up();
  start = steady::now();
  BOOST_TEST(producer.produce("volley.events", "k3", "third") == "");
  BOOST_TEST_MESSAGE("after up, delivered in " << ms_since(start) << " ms");

  std::multiset<std::string> values;
  for (const auto& record : kafka.read_all("volley.events"))
    values.insert(record.value.value_or("<tombstone>"));
  BOOST_TEST((values == std::multiset<std::string>{"first", "third"}));
}

// (c) Two members with cooperative-sticky: incremental callbacks, the
// partitions split between them, and all go to the one left when the other
// closes.
BOOST_AUTO_TEST_CASE(cooperative_group_splits_and_hands_over_incrementally) {
  mock_kafka kafka({{"volley.events", 6}});
  auto cluster = cluster_on(kafka, "c");
  const auto all = partitions_upto(6);

  auto start = steady::now();
  consumer_member a(cluster, "volley.events");
  BOOST_REQUIRE(settle({&a}, [&] { return a.assigned() == all; }));
  BOOST_TEST_MESSAGE("first member holds all 6 after " << ms_since(start) << " ms");

  start = steady::now();
  consumer_member b(cluster, "volley.events");
  BOOST_REQUIRE(settle({&a, &b}, [&] {
    return !a.assigned().empty() && !b.assigned().empty() && no_overlap(a.assigned(), b.assigned()) &&
           united(a.assigned(), b.assigned()) == all;
  }));
  BOOST_TEST_MESSAGE("second member joined, split " << a.assigned().size() << "/" << b.assigned().size()
                                                    << " after " << ms_since(start) << " ms");
  BOOST_TEST(a.assigned().size() == 3u);
  BOOST_TEST(b.assigned().size() == 3u);

  start = steady::now();
  auto a_had = a.assigned();
  a.close();
  BOOST_REQUIRE(settle({&b}, [&] { return b.assigned() == all; }));
  BOOST_TEST_MESSAGE("first member closed, the second holds all 6 after " << ms_since(start) << " ms");
  BOOST_TEST_MESSAGE("a:" << describe(a.events()));
  BOOST_TEST_MESSAGE("b:" << describe(b.events()));

  for (const auto* member : {&a, &b}) {
    BOOST_TEST(member->errors().empty());
    for (const auto& event : member->events()) {
      BOOST_TEST(event.protocol == "COOPERATIVE");
      BOOST_TEST(event.error == "");
      BOOST_TEST(!event.lost);
    }
  }
  // Incremental: a's only revokes are the partitions it gives away, never a
  // revoke-everything-then-reassign as with the eager protocol. (Rounds that
  // change nothing for a member call it with an empty assign.)
  auto a_changes = changes_of(a.events());
  auto b_changes = changes_of(b.events());
  BOOST_REQUIRE_EQUAL(a_changes.size(), 3u);
  BOOST_TEST((a_changes[0].assign && a_changes[0].partitions == all));
  BOOST_REQUIRE_EQUAL(b_changes.size(), 2u);
  BOOST_TEST(
    (b_changes[0].assign && !a_changes[1].assign && a_changes[1].partitions == b_changes[0].partitions));
  BOOST_TEST((!a_changes[2].assign && a_changes[2].partitions == a_had));
  BOOST_TEST((b_changes[1].assign && b_changes[1].partitions == a_had));
}

// (d) Offsets committed async while assigned, and sync in the revoke
// callback (as a node does on revoke), are what a new member sees and where
// it starts.
BOOST_AUTO_TEST_CASE(committed_offsets_are_seen_by_a_new_member) {
  mock_kafka kafka({{"volley.events", 2}});
  auto cluster = cluster_on(kafka, "d");
  for (int i = 0; i < 5; ++i)
    BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-" + std::to_string(i), 0).error == "");
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(kafka.produce("volley.events", "k", "p1-" + std::to_string(i), 1).error == "");

  // Partition 1 is committed at 2 from inside the revoke callback.
  std::string sync_commit = "not run";
  consumer_member a(cluster, "volley.events", {},
                    [&](rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* revoked) {
                      if (partitions_of(revoked).count(1) == 0)
                        return;
                      auto offsets = list_of("volley.events", {{1, 2}});
                      sync_commit = rd_kafka_err2name(rd_kafka_commit(rk, offsets.get(), 0));
                    });
  BOOST_REQUIRE(settle({&a}, [&] { return a.records().size() == 8u; }));
  auto async_offsets = list_of("volley.events", {{0, 5}});
  BOOST_TEST(rd_kafka_commit(a.handle(), async_offsets.get(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_REQUIRE(settle({&a}, [&] { return !a.commit_results().empty(); }));
  BOOST_TEST(a.commit_results().front() == "NO_ERROR");
  a.close();
  BOOST_TEST(sync_commit == "NO_ERROR");

  consumer_member b(cluster, "volley.events");
  BOOST_REQUIRE(settle({&b}, [&] { return b.assigned() == partitions_upto(2); }));
  auto committed = list_of("volley.events", {{0, RD_KAFKA_OFFSET_INVALID}, {1, RD_KAFKA_OFFSET_INVALID}});
  BOOST_TEST(rd_kafka_committed(b.handle(), committed.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_TEST(committed->elems[0].offset == 5);
  BOOST_TEST(committed->elems[1].offset == 2);

  // b resumes there: only p1@2, then p0@5 once written; nothing older again.
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-5", 0).error == "");
  BOOST_REQUIRE(settle({&b}, [&] { return b.records().size() >= 2u; }));
  BOOST_TEST(b.errors().empty());
  std::set<std::pair<int32_t, int64_t>> got;
  for (const auto& record : b.records())
    got.insert({record.partition, record.offset});
  BOOST_TEST((got == std::set<std::pair<int32_t, int64_t>>{{0, 5}, {1, 2}}));
}

// (e) rd_kafka_pause_partitions() works: a partition paused in the assign
// callback fetches nothing until resumed, and a pause mid-stream neither
// loses nor repeats records. But in librdkafka 2.0.2 a group consumer that
// ever paused a partition can no longer be destroyed: rd_kafka_destroy()
// waits forever on its broker thread (a leaked partition reference, from
// upstream commit 8e20e1ee, librdkafka issues #4362 and #4674). So this
// member is closed and left behind, and volleyd should hold a partition back
// as the next two tests do instead. One broker, so both partitions share its
// fetches and the other partition's record shows a fetch happened.
BOOST_AUTO_TEST_CASE(paused_partition_delivers_nothing_until_resumed) {
  mock_kafka kafka({{"volley.events", 2}}, 1);
  auto cluster = cluster_on(kafka, "e");
  auto only_p0 = list_of("volley.events", {{0, RD_KAFKA_OFFSET_INVALID}});
  consumer_member member(cluster, "volley.events",
                         [&](rd_kafka_t* rk, const rd_kafka_topic_partition_list_t*) {
                           rd_kafka_pause_partitions(rk, only_p0.get());
                         });
  BOOST_REQUIRE(settle({&member}, [&] { return member.assigned() == partitions_upto(2); }));
  auto count_in = [&](int32_t partition) {
    return std::count_if(member.records().begin(), member.records().end(),
                         [&](const kafka_record& r) { return r.partition == partition; });
  };

  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-0", 0).error == "");
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p1-0", 1).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return count_in(1) == 1; }));
  BOOST_TEST(count_in(0) == 0);

  BOOST_TEST(rd_kafka_resume_partitions(member.handle(), only_p0.get()) == RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_REQUIRE(settle({&member}, [&] { return count_in(0) == 1; }));

  BOOST_TEST(rd_kafka_pause_partitions(member.handle(), only_p0.get()) == RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int i = 1; i <= 3; ++i)
    BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-" + std::to_string(i), 0).error == "");
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p1-1", 1).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return count_in(1) == 2; }));
  BOOST_TEST(count_in(0) == 1);

  BOOST_TEST(rd_kafka_resume_partitions(member.handle(), only_p0.get()) == RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_REQUIRE(settle({&member}, [&] { return count_in(0) >= 4; }));
  std::vector<int64_t> p0_offsets;
  for (const auto& record : member.records())
    if (record.partition == 0)
      p0_offsets.push_back(record.offset);
  BOOST_TEST(p0_offsets == (std::vector<int64_t>{0, 1, 2, 3}), boost::test_tools::per_element());
  member.close_and_leak(); // closing works (it leaves the group); destroying would hang
}

// (e, what volleyd can do instead) The rebalance callback assigns the
// partitions it can serve and leaves the rest unassigned; an
// incremental_assign() outside the callback, once they are restored, starts
// them at the committed offset. The member stays in the group meanwhile,
// even past session.timeout.ms, and can be destroyed afterwards.
BOOST_AUTO_TEST_CASE(partition_assigned_after_the_callback_starts_once_restored) {
  mock_kafka kafka({{"volley.events", 2}}, 1);
  auto cluster = cluster_on(kafka, "e2");
  consumer_member member(cluster, "volley.events");
  member.defer({0});
  BOOST_REQUIRE(settle({&member}, [&] { return member.has_deferred(); }));
  BOOST_TEST((member.assigned() == std::set<int32_t>{1}));

  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-0", 0).error == "");
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p1-0", 1).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 1u; }));
  BOOST_TEST(member.records().front().partition == 1);
  // A restore that outlasts session.timeout.ms (4 s): the member keeps
  // being served meanwhile, and still gets partition 1's new record.
  keep_polling({&member}, 6s);
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p1-1", 1).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 2u; }));

  BOOST_TEST(member.assign_deferred() == "");
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 3u; }));
  BOOST_TEST(member.records().back().partition == 0);
  BOOST_TEST(member.records().back().offset == 0);
  BOOST_TEST(member.assigned() == partitions_upto(2));
  BOOST_TEST(changes_of(member.events()).size() == 1u,
             describe(member.events())); // no revoke, nothing lost
  BOOST_TEST(member.destroyed_within(30s));
}

// (e, the other way) A partition's own queue, unhooked from the consumer
// queue in the assign callback, keeps its records (fetched, bounded by
// queued.max.messages.kbytes) until it is forwarded back; the consumer can be
// destroyed afterwards.
BOOST_AUTO_TEST_CASE(partition_queue_held_back_delivers_once_forwarded) {
  mock_kafka kafka({{"volley.events", 2}}, 1);
  auto cluster = cluster_on(kafka, "e3");
  rd_kafka_queue_t* held = nullptr;
  consumer_member member(cluster, "volley.events",
                         [&](rd_kafka_t* rk, const rd_kafka_topic_partition_list_t*) {
                           if (held != nullptr)
                             return;
                           held = rd_kafka_queue_get_partition(rk, "volley.events", 0);
                           rd_kafka_queue_forward(held, nullptr);
                         });
  BOOST_REQUIRE(settle({&member}, [&] { return member.assigned() == partitions_upto(2); }));
  BOOST_REQUIRE(held != nullptr);
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-0", 0).error == "");
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p1-0", 1).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 1u; }));
  BOOST_TEST(member.records().front().partition == 1);
  BOOST_REQUIRE(wait_until([&] { return rd_kafka_queue_length(held) > 0; }));

  rd_kafka_queue_t* consumer_queue = rd_kafka_queue_get_consumer(member.handle());
  rd_kafka_queue_forward(held, consumer_queue);
  rd_kafka_queue_destroy(consumer_queue);
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 2u; }));
  BOOST_TEST(member.records().back().partition == 0);
  BOOST_REQUIRE(kafka.produce("volley.events", "k", "p0-1", 0).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 3u; }));
  BOOST_TEST(member.records().back().offset == 1);
  rd_kafka_queue_destroy(held);
  BOOST_TEST(member.destroyed_within(30s));
}

// rd_kafka_seek_partitions() rewinds an assigned partition (records come
// again from the offset sought), and unlike a pause it leaves the consumer
// destroyable.
BOOST_AUTO_TEST_CASE(seek_rewinds_a_partition_and_the_consumer_can_be_destroyed) {
  mock_kafka kafka({{"volley.events", 1}}, 1);
  auto cluster = cluster_on(kafka, "seek");
  consumer_member member(cluster, "volley.events");
  BOOST_REQUIRE(settle({&member}, [&] { return member.assigned() == partitions_upto(1); }));
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(kafka.produce("volley.events", "k", "r" + std::to_string(i), 0).error == "");
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() == 3u; }));

  // A seek can come back with an error on a loaded machine (seen once under
  // ASan, reason not printed then); the group consumer tries again a second
  // later, and so does this test, saying why.
  std::string why;
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
                          auto to_1 = list_of("volley.events", {{0, 1}});
                          kafka_error error(rd_kafka_seek_partitions(member.handle(), to_1.get(), 5000));
                          if (error)
                            why = rd_kafka_error_string(error.get());
                          return !error;
                        }),
                        "seek failed: " << why);
  BOOST_TEST_MESSAGE("seek errors before it succeeded: " << (why.empty() ? "none" : why));
  BOOST_REQUIRE(settle({&member}, [&] { return member.records().size() >= 5u; }));
  std::vector<int64_t> offsets;
  for (const auto& record : member.records())
    offsets.push_back(record.offset);
  // 0, 1, 2 once, then from offset 1 again (twice over if a failed seek
  // had rewound too).
  BOOST_TEST(std::vector<int64_t>(offsets.begin(), offsets.begin() + 5) ==
               (std::vector<int64_t>{0, 1, 2, 1, 2}),
             boost::test_tools::per_element());
  for (size_t i = 5; i < offsets.size(); ++i)
    BOOST_TEST(offsets[i] == static_cast<int64_t>(1 + (i - 5) % 2));
  BOOST_TEST(member.destroyed_within(30s));
}

// Every broker down for longer than session.timeout.ms: the member cannot
// heartbeat, declares its partitions lost (a revoke callback with
// rd_kafka_assignment_lost() true: too late to commit) and, once the
// brokers are back, joins again and gets them back.
BOOST_AUTO_TEST_CASE(brokers_down_past_the_session_timeout_lose_the_assignment) {
  mock_kafka kafka({{"volley.events", 2}});
  auto cluster = cluster_on(kafka, "down");
  consumer_member member(cluster, "volley.events");
  BOOST_REQUIRE(settle({&member}, [&] { return member.assigned() == partitions_upto(2); }));

  kafka.down();
  auto start = steady::now();
  auto lost = [&] {
    return std::any_of(member.events().begin(), member.events().end(),
                       [](const rebalance_event& e) { return !e.assign && e.lost; });
  };
  BOOST_REQUIRE(settle({&member}, lost));
  BOOST_TEST_MESSAGE("brokers down: partitions lost after " << ms_since(start)
                                                            << " ms (session.timeout.ms 4000)");
  BOOST_TEST(member.assigned().empty());

  kafka.up();
  start = steady::now();
  BOOST_REQUIRE(settle({&member}, [&] { return member.assigned() == partitions_upto(2); }));
  BOOST_TEST_MESSAGE("brokers up: partitions assigned again after " << ms_since(start) << " ms");
  BOOST_TEST_MESSAGE("member:" << describe(member.events()));
  BOOST_TEST(member.destroyed_within(30s)); // no pause: destroy returns
}

// (f) A consumer with no group.id reads one partition from offset 0 to the
// high watermark and knows when it is done; librdkafka 2.0's assign() API
// refuses it (it needs a group.id), so the reader uses the simple consumer.
// The mock does not compact: both records of a key come back.
BOOST_AUTO_TEST_CASE(group_less_reader_reads_a_partition_to_its_end) {
  mock_kafka kafka({{"volley.changelog", 3}});
  auto reader = client_for(kafka_role::restore_reader, cluster_on(kafka, "f"));
  BOOST_REQUIRE(kafka.produce("volley.changelog", "a", std::string("a1"), 2).error == "");
  BOOST_REQUIRE(kafka.produce("volley.changelog", "b", std::string("b1"), 2).error == "");
  BOOST_REQUIRE(kafka.produce("volley.changelog", "a", std::string("a2"), 2).error == "");
  BOOST_REQUIRE(kafka.produce("volley.changelog", "b", std::nullopt, 2).error == "");
  BOOST_REQUIRE(kafka.produce("volley.changelog", "c", std::string("c1"), 2).error == "");

  std::vector<kafka_record> records;
  auto collect = [&](const kafka_record& record) { records.push_back(record); };
  auto read = read_partition(reader.get(), "volley.changelog", 2, RD_KAFKA_OFFSET_BEGINNING, 10s, collect);
  BOOST_TEST(read.error == "");
  BOOST_TEST(read.next_offset == 5);
  BOOST_TEST(read.records == 5u);
  BOOST_REQUIRE(records.size() == 5u);
  for (int64_t i = 0; i < 5; ++i)
    BOOST_TEST(records[i].offset == i);
  BOOST_TEST(records[2].key == "a");
  BOOST_TEST(*records[2].value == "a2");
  BOOST_TEST(records[3].key == "b");
  BOOST_TEST(!records[3].value.has_value()); // the tombstone

  records.clear();
  read = read_partition(reader.get(), "volley.changelog", 2, 3, 10s, collect);
  BOOST_TEST(read.error == "");
  BOOST_TEST(records.size() == 2u);
  BOOST_TEST(read.next_offset == 5);

  records.clear();
  read = read_partition(reader.get(), "volley.changelog", 2, 5, 10s, collect);
  BOOST_TEST((read.error == "" && records.empty() && read.next_offset == 5));
  read = read_partition(reader.get(), "volley.changelog", 0, RD_KAFKA_OFFSET_BEGINNING, 10s, collect);
  BOOST_TEST((read.error == "" && records.empty() && read.next_offset == 0));
  read = read_partition(reader.get(), "volley.changelog", 2, 9, 10s, collect);
  BOOST_TEST(read.error.find("past its end") != std::string::npos, read.error);

  auto partition = list_of("volley.changelog", {{2, 0}});
  BOOST_TEST(rd_kafka_assign(reader.get(), partition.get()) == RD_KAFKA_RESP_ERR__UNKNOWN_GROUP);
}

// The mock keeps at most 5 MiB per partition: older records are dropped
// (log start moves up), compacted topic or not. A restore "from the
// beginning" then starts at the log start.
BOOST_AUTO_TEST_CASE(mock_drops_the_oldest_records_beyond_5_mib_per_partition) {
  mock_kafka kafka({{"volley.changelog", 1}});
  const std::string value(100 * 1024, 'x');
  for (int i = 0; i < 60; ++i)
    BOOST_REQUIRE(kafka.produce("volley.changelog", std::to_string(i), value, 0).error == "");
  auto reader = client_for(kafka_role::restore_reader, cluster_on(kafka, "retention"));
  int64_t low = -1;
  int64_t high = -1;
  BOOST_REQUIRE(rd_kafka_query_watermark_offsets(reader.get(), "volley.changelog", 0, &low, &high, 10000) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
  BOOST_TEST_MESSAGE("60 records of 100 KiB: log " << low << ".." << high);
  BOOST_TEST(high == 60);
  BOOST_TEST(low > 0);
  auto records = kafka.read_all("volley.changelog");
  BOOST_REQUIRE(!records.empty());
  BOOST_TEST(records.front().offset == low);
  BOOST_TEST(records.size() == static_cast<size_t>(high - low));
}

// (g) A member killed without closing (SIGKILL) keeps its partitions until
// the mock's session timeout expires it; then the other member gets them.
// The killed member is this test binary run again as member_to_be_killed.
BOOST_AUTO_TEST_CASE(killed_member_loses_its_partitions_after_the_session_timeout) {
  mock_kafka kafka({{"volley.events", 4}});
  auto cluster = cluster_on(kafka.bootstrap(), "g");
  const auto all = partitions_upto(4);

  std::vector<std::string> args = {"/proc/self/exe",
                                   "--run_test=member_to_be_killed",
                                   "--log_level=nothing",
                                   "--report_level=no",
                                   "--",
                                   kafka.bootstrap(),
                                   cluster.group};
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  int report[2];
  BOOST_REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(report[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(report[1]);
  ::fcntl(report[0], F_SETFL, O_NONBLOCK);
  struct reap_child {
    pid_t pid;
    int fd;
    ~reap_child() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(fd);
    }
  } reaper{child, report[0]};
  // The child's last "holds N" line.
  std::string output;
  int child_holds = -1;
  auto read_child = [&] {
    char buffer[256];
    ssize_t got;
    while ((got = ::read(report[0], buffer, sizeof(buffer))) > 0)
      output.append(buffer, static_cast<size_t>(got));
    for (auto newline = output.find('\n'); newline != std::string::npos; newline = output.find('\n')) {
      std::string line = output.substr(0, newline);
      output.erase(0, newline + 1);
      if (line.rfind("holds ", 0) == 0)
        child_holds = std::stoi(line.substr(6));
    }
    return child_holds;
  };

  BOOST_REQUIRE(wait_until([&] { return read_child() == 4; }, settle_timeout));
  consumer_member survivor(cluster, "volley.events");
  BOOST_REQUIRE(settle({&survivor}, [&] {
    int held = read_child();
    return held > 0 && !survivor.assigned().empty() &&
           survivor.assigned().size() + static_cast<size_t>(held) == all.size();
  }));
  auto survivor_had = survivor.assigned();

  ::kill(child, SIGKILL);
  auto start = steady::now();
  BOOST_REQUIRE(settle({&survivor}, [&] { return survivor.assigned() == all; }));
  BOOST_TEST_MESSAGE("killed member's partitions reassigned after " << ms_since(start)
                                                                    << " ms (session.timeout.ms 4000)");
  BOOST_TEST_MESSAGE("survivor:" << describe(survivor.events()));
  // The survivor kept its share throughout: assigns only, nothing lost.
  for (const auto& event : survivor.events())
    BOOST_TEST((event.assign && !event.lost));
  BOOST_TEST(survivor_had.size() < all.size());
}

// The member (g) kills, in a process of its own: arguments after "--" are
// the bootstrap servers and the group. Prints "holds N" whenever its
// partition count changes; ends when the test that started it is gone.
BOOST_AUTO_TEST_CASE(member_to_be_killed, *boost::unit_test::disabled()) {
  auto& suite = boost::unit_test::framework::master_test_suite();
  BOOST_REQUIRE_EQUAL(suite.argc, 3);
  consumer_member member(cluster_on(suite.argv[1], suite.argv[2]), "volley.events");
  pid_t parent = ::getppid();
  size_t reported = SIZE_MAX;
  while (::getppid() == parent) {
    member.poll();
    if (member.assigned().size() != reported) {
      reported = member.assigned().size();
      std::printf("holds %zu\n", reported);
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(10ms); // a poll loop's pace, not a wait for a result
  }
}
