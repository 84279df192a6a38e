// Cluster mode's actor side on CAF's test coordinator: partitions adopted
// from a replayed changelog, consumed events acknowledged only once their
// changes are in the changelog, consuming an event again recognised, and a
// partition released from memory and disk. The changelog is a recorder the
// test makes durable when it chooses.
#define BOOST_TEST_MODULE cluster_actors
#include <boost/test/unit_test.hpp>

#include "tests/support/actor_fixture.hpp"
#include "tests/support/must.hpp"
#include "tests/support/temp_dir.hpp"

#include <functional>
#include <string>
#include <vector>

using namespace volley;
using namespace volley::test;
using namespace std::chrono_literals;

namespace {

// Appends are kept until the test says they are durable.
class recording_log : public change_log {
public:
  void append(std::vector<mirrored_change>&& changes, std::function<void()> on_durable) override {
    for (auto& c : changes)
      all.push_back(c);
    pending.push_back(std::move(on_durable));
  }
  void make_durable() {
    auto now = std::move(pending);
    pending.clear();
    for (auto& f : now)
      f();
  }
  std::vector<mirrored_change> of(uint16_t partition) const {
    std::vector<mirrored_change> out;
    for (const auto& c : all)
      if (c.source == partition)
        out.push_back(c);
    return out;
  }
  std::vector<mirrored_change> all;
  std::vector<std::function<void()>> pending;
};

subscriber_config sub(const std::string& name) {
  subscriber_config c;
  c.name = name;
  c.url = "http://127.0.0.1:9/" + name;
  c.backoff.jitter = 0;
  return c;
}

struct cluster_fixture : actor_fixture {
  temp_dir dir;
  std::shared_ptr<partitioned_store> parts = std::make_shared<partitioned_store>(dir.file("parts"), 64);
  recording_log log;

  int64_t take(uint16_t p, const std::vector<mirrored_change>& changes = {}) {
    BOOST_REQUIRE(ask_persistence<bool>(adopt_atom::value, p));
    if (!changes.empty())
      BOOST_REQUIRE(ask_persistence<bool>(restore_atom::value, p, changes));
    return ask_persistence<int64_t>(ready_atom::value, p);
  }
};

size_t oks(const probe_log& seen) {
  size_t n = 0;
  for (const auto& a : seen.acks)
    n += a.line.find("\"ok\":true") != std::string::npos ? 1 : 0;
  return n;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster, cluster_fixture)

BOOST_AUTO_TEST_CASE(consumed_events_are_acked_once_the_changelog_holds_them) {
  wire_cluster({sub("billing")}, parts, &log);
  BOOST_TEST(take(0) == -1); // nothing applied yet
  consume(0, {0, 1}, "order.created");
  BOOST_TEST(seen->acks.empty()); // on disk, not yet in the changelog
  BOOST_TEST(!log.of(0).empty());
  BOOST_REQUIRE_EQUAL(transport.open(), 2u); // delivering does not wait
  log.make_durable();
  run();
  BOOST_TEST(oks(*seen) == 2u);
  // Consumed again (a rebalance before the offset commit): recognised.
  consume(0, {1}, "order.created");
  BOOST_REQUIRE_EQUAL(seen->acks.size(), 3u);
  BOOST_TEST(seen->acks[2].line.find("\"duplicate\":true") != std::string::npos);
  BOOST_TEST(transport.open() == 2u);
  // Not ours: refused.
  consume(1, {0}, "order.created");
  BOOST_TEST(seen->acks.back().line.find("not owned") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_partition_taken_over_continues_from_its_changelog) {
  // The first owner: events consumed, one delivered, one retried, one dead-lettered.
  {
    cluster_fixture first;
    first.wire_cluster({sub("billing")}, first.parts, &first.log);
    first.take(2);
    first.consume(2, {0, 1, 2, 3}, "order.created");
    first.log.make_durable();
    first.run();
    first.transport.answer_status(200);
    first.transport.answer_status(503);
    first.transport.answer_status(404);
    first.run();
    first.advance(0ms);
    first.log.make_durable();
    first.run();
    log.all = first.log.of(2); // what the changelog holds of partition 2
  }
  wire_cluster({sub("billing")}, parts, &log);
  auto applied = take(2, log.all);
  BOOST_TEST(applied == 3); // the highest offset the changelog says was applied
  // The retried one waits for its backoff; the untouched one goes at once.
  BOOST_REQUIRE_EQUAL(transport.open(), 1u);
  BOOST_TEST(transport.header(0, "webhook-id") == "p2-3");
  BOOST_TEST(must(parts->count_dlq()) == 1u);
  BOOST_TEST(must(parts->count_pending_total()) == 2u);
  advance(10s);
  BOOST_REQUIRE_EQUAL(transport.open(), 2u);
  BOOST_TEST(transport.header(1, "webhook-id") == "p2-1");
  // Offsets the changelog says were applied are not applied again.
  consume(2, {2, 3, 4}, "order.created");
  BOOST_TEST(transport.open() == 3u);
}

BOOST_AUTO_TEST_CASE(a_released_partition_leaves_memory_and_disk) {
  wire_cluster({sub("billing")}, parts, &log);
  take(0);
  take(1);
  consume(0, {0}, "order.created");
  consume(1, {0, 1}, "order.created");
  log.make_durable();
  run();
  BOOST_REQUIRE_EQUAL(transport.open(), 3u);
  BOOST_TEST(ask_persistence<bool>(release_atom::value, uint16_t{1}));
  BOOST_TEST(must(parts->count_pending_total()) == 1u);
  BOOST_TEST((parts->partitions() == std::vector<uint16_t>{0}));
  // Results of partition 1's requests still in flight change nothing.
  transport.answer_status(200);
  transport.answer_status(500);
  transport.answer_status(500);
  run();
  advance(60s);
  BOOST_TEST(transport.open() == 0u); // nothing of partition 1 is retried here
}

BOOST_AUTO_TEST_CASE(a_recorded_disable_in_a_taken_partition_applies) {
  std::vector<mirrored_change> changes;
  {
    temp_dir other;
    std::string error;
    auto s = lmdb_store::open(other.file("s"), 64, error);
    s->set_mirroring(true);
    write_batch b;
    b.status_changes = {{"billing", true, "endpoint answered 410 Gone", 1700000000000}};
    changes = s->commit(b).changes;
  }
  wire_cluster({sub("billing")}, parts, &log);
  take(0, changes);
  consume(0, {0}, "order.created");
  log.make_durable();
  run();
  BOOST_TEST(transport.open() == 0u); // disabled: kept, not sent
  const subscriber_report* last = nullptr;
  for (const auto& r : seen->reports)
    if (r.name == "billing")
      last = &r;
  BOOST_REQUIRE(last != nullptr);
  BOOST_TEST(!last->enabled);
}

BOOST_AUTO_TEST_SUITE_END()
