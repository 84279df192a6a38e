#define BOOST_TEST_MODULE store
#include <boost/test/unit_test.hpp>

#include "storage/lmdb_store.hpp"
#include "storage/memory_store.hpp"
#include "storage/partitioned_store.hpp"
#include "storage/record_codec.hpp"
#include "storage/replay_plan.hpp"
#include "tests/support/must.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/mpl/list.hpp>
#include <lmdb.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

using namespace volley;
using volley::test::must;
using volley::test::temp_dir;
namespace fs = std::filesystem;

namespace volley {
// For Boost.Test's failure messages.
std::ostream& operator<<(std::ostream& os, const delivery_key& key) {
  return os << key.subscriber << "/" << key.event_seq;
}
} // namespace volley

namespace {

// --- helpers -----------------------------------------------------------------

event_record make_event(uint64_t seq, std::string body = "") {
  event_record e;
  e.seq = seq;
  e.id = "evt_" + std::to_string(seq);
  e.type = "order.created";
  e.created_ms = 1700000000000 + static_cast<int64_t>(seq);
  e.body = body.empty() ? R"({"id":"evt_)" + std::to_string(seq) + R"(","data":{}})" : body;
  return e;
}

delivery_record make_delivery(const std::string& subscriber, uint64_t seq, uint8_t priority = 0) {
  delivery_record d;
  d.key = {subscriber, seq};
  d.priority = priority;
  d.created_ms = 1700000000000 + static_cast<int64_t>(seq);
  return d;
}

new_event make_new_event(uint64_t seq, std::initializer_list<const char*> subscribers,
                         std::string body = "") {
  new_event ev;
  ev.event = make_event(seq, std::move(body));
  for (const char* s : subscribers)
    ev.deliveries.push_back(make_delivery(s, seq));
  return ev;
}

dlq_record make_dlq(const std::string& subscriber, uint64_t seq, bool with_copy = true) {
  dlq_record r;
  r.key = {subscriber, seq};
  if (with_copy) {
    auto e = make_event(seq);
    r.event_id = e.id;
    r.type = e.type;
    r.body = e.body;
  }
  r.priority = 2;
  r.attempts = 8;
  r.last_status = 404;
  r.last_error = "HTTP 404";
  r.created_ms = 1700000000000 + static_cast<int64_t>(seq);
  r.failed_ms = 1700000099000;
  return r;
}

write_result commit_ok(store& s, const write_batch& batch) {
  auto result = s.commit(batch);
  BOOST_REQUIRE_MESSAGE(result.status == write_status::ok, "commit failed: " << result.error);
  BOOST_REQUIRE(result.error.empty());
  return result;
}

std::vector<uint64_t> seqs_of(const std::vector<pending_delivery>& pending) {
  std::vector<uint64_t> out;
  for (const auto& p : pending)
    out.push_back(p.delivery.key.event_seq);
  return out;
}

std::vector<std::string> keys_of(const std::vector<dlq_record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records)
    out.push_back(r.key.subscriber + "/" + std::to_string(r.key.event_seq));
  return out;
}

void check_same_event(const event_record& got, const event_record& want) {
  BOOST_TEST(got.seq == want.seq);
  BOOST_TEST(got.id == want.id);
  BOOST_TEST(got.type == want.type);
  BOOST_TEST(got.created_ms == want.created_ms);
  BOOST_TEST(got.body == want.body);
}

void check_same_delivery(const delivery_record& got, const delivery_record& want) {
  BOOST_TEST(got.key == want.key);
  BOOST_TEST(got.priority == want.priority);
  BOOST_TEST(got.attempts == want.attempts);
  BOOST_TEST(got.next_attempt_ms == want.next_attempt_ms);
  BOOST_TEST(got.created_ms == want.created_ms);
}

// Direct LMDB access, to inspect or damage what lmdb_store wrote. Only while
// no lmdb_store has the directory open.
struct raw_lmdb {
  MDB_env* env = nullptr;
  explicit raw_lmdb(const fs::path& dir) {
    BOOST_REQUIRE(mdb_env_create(&env) == 0);
    BOOST_REQUIRE(mdb_env_set_maxdbs(env, 8) == 0);
    BOOST_REQUIRE(mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0600) == 0);
  }
  ~raw_lmdb() { mdb_env_close(env); }

  size_t entries(const char* db) {
    MDB_txn* txn = nullptr;
    BOOST_REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
    MDB_dbi dbi;
    BOOST_REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
    MDB_stat st;
    BOOST_REQUIRE(mdb_stat(txn, dbi, &st) == 0);
    mdb_txn_abort(txn);
    return st.ms_entries;
  }

  void put(const char* db, const std::string& key, const std::string& value) {
    MDB_txn* txn = nullptr;
    BOOST_REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    MDB_dbi dbi;
    BOOST_REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    BOOST_REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    BOOST_REQUIRE(mdb_txn_commit(txn) == 0);
  }
};

std::string seq_key(uint64_t seq) {
  char k[seq_key_size];
  encode_seq_key(seq, k);
  return std::string(k, sizeof k);
}

std::string delivery_key_bytes(const std::string& subscriber, uint64_t seq) {
  std::string out;
  encode_delivery_key({subscriber, seq}, out);
  return out;
}

// "id@ms" for each remembered id, for readable comparisons.
std::vector<std::string> ids_of(const std::vector<remembered_id>& ids) {
  std::vector<std::string> out;
  for (const auto& r : ids)
    out.push_back(r.id + "@" + std::to_string(r.accepted_ms));
  return out;
}

write_batch remembering(std::initializer_list<remembered_id> ids, id_pruning pruning = {}) {
  write_batch batch;
  batch.remembered = ids;
  batch.pruning = pruning;
  return batch;
}

std::vector<remembered_id> all_ids(store& s) {
  return must(s.recent_ids(std::numeric_limits<int64_t>::min(), std::numeric_limits<size_t>::max()));
}

subscriber_status disabling(const std::string& subscriber, const std::string& reason, int64_t since_ms) {
  return {subscriber, true, reason, since_ms};
}

subscriber_status enabling(const std::string& subscriber) { return {subscriber, false, "", 0}; }

write_batch changing(std::initializer_list<subscriber_status> changes) {
  write_batch batch;
  batch.status_changes = changes;
  return batch;
}

// "name:reason@ms" for each disabled subscriber, for readable comparisons.
std::vector<std::string> disabled_of(store& s) {
  std::vector<std::string> out;
  for (const auto& d : must(s.disabled_subscribers())) {
    BOOST_TEST(d.disabled);
    out.push_back(d.subscriber + ":" + d.reason + "@" + std::to_string(d.since_ms));
  }
  return out;
}

write_batch defining(std::initializer_list<subscriber_definition> definitions) {
  write_batch batch;
  batch.definitions = definitions;
  return batch;
}

subscriber_definition stored(const std::string& name, const std::string& json, int64_t ms) {
  return {name, json, ms, false};
}

subscriber_definition deleted(const std::string& name) { return {name, "", 0, true}; }

// "name=json@ms" for each stored definition.
std::vector<std::string> definitions_of(store& s) {
  std::vector<std::string> out;
  for (const auto& d : must(s.subscriber_definitions())) {
    BOOST_TEST(!d.deleted);
    out.push_back(d.name + "=" + d.json + "@" + std::to_string(d.updated_ms));
  }
  return out;
}

} // namespace

// The backends every behavioural case runs against; outside the anonymous
// namespace so the test names read "case<memory_backend>".
struct memory_backend {
  memory_store impl;
  store& get() { return impl; }
};

struct lmdb_backend {
  temp_dir dir;
  std::unique_ptr<lmdb_store> impl;
  lmdb_backend() {
    std::string error;
    impl = lmdb_store::open(dir.path(), 64, error);
    BOOST_REQUIRE_MESSAGE(impl, error);
  }
  store& get() { return *impl; }
};

using backends = boost::mpl::list<memory_backend, lmdb_backend>;

// ============================================================================
BOOST_AUTO_TEST_SUITE(both_backends)

BOOST_AUTO_TEST_CASE_TEMPLATE(new_store_is_empty, B, backends) {
  B b;
  store& s = b.get();
  BOOST_TEST(s.last_event_seq() == 0u);
  BOOST_TEST(must(s.pending_subscribers()).empty());
  BOOST_TEST(must(s.read_pending("billing", 0, 100)).empty());
  BOOST_TEST(must(s.count_pending("billing")) == 0u);
  BOOST_TEST(must(s.count_pending_total()) == 0u);
  BOOST_TEST(must(s.count_dlq()) == 0u);
  BOOST_TEST(must(s.list_dlq(std::nullopt, std::nullopt, 100)).empty());
  commit_ok(s, write_batch{}); // an empty batch is fine
}

BOOST_AUTO_TEST_CASE_TEMPLATE(round_trip_keeps_every_field, B, backends) {
  B b;
  store& s = b.get();
  new_event ev;
  ev.event.seq = 7;
  ev.event.id = "client-key-\xc3\xa9";
  ev.event.type = "invoice.paid";
  ev.event.created_ms = -5; // before 1970 still round-trips
  ev.event.body = std::string("{\"a\":\"\0\xff\",\"b\":1}", 17);
  delivery_record d1 = make_delivery("billing", 7, 3);
  d1.attempts = 4;
  d1.next_attempt_ms = 1700000012345;
  d1.created_ms = 42;
  delivery_record d2 = make_delivery("audit", 7, 1);
  d2.next_attempt_ms = std::numeric_limits<int64_t>::min();
  ev.deliveries = {d1, d2};
  write_batch batch;
  batch.events.push_back(ev);
  commit_ok(s, batch);

  BOOST_TEST(s.last_event_seq() == 7u);
  auto got = must(s.read_pending("billing", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_delivery(got[0].delivery, d1);
  check_same_event(got[0].event, ev.event);
  got = must(s.read_pending("audit", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_delivery(got[0].delivery, d2);
  check_same_event(got[0].event, ev.event);
  BOOST_TEST(must(s.count_pending_total()) == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(event_without_deliveries_only_advances_seq, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a"}));
  batch.events.push_back(make_new_event(2, {}));
  commit_ok(s, batch);
  BOOST_TEST(s.last_event_seq() == 2u);
  BOOST_TEST(must(s.count_pending_total()) == 1u);
  // seq 2 is spent even though nothing of it was stored.
  write_batch again;
  again.events.push_back(make_new_event(2, {"a"}));
  auto result = s.commit(again);
  BOOST_TEST((result.status == write_status::failed));
  BOOST_TEST(result.error.find("not above last_event_seq 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(event_lives_until_its_last_delivery_ends, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a", "b", "c", "d"}));
  commit_ok(s, batch);
  const auto body = make_event(1).body;

  write_batch finish_a;
  finish_a.finished = {{"a", 1}};
  commit_ok(s, finish_a);
  for (const char* sub : {"b", "c", "d"}) {
    auto got = must(s.read_pending(sub, 0, 10));
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0].event.body == body);
  }

  write_batch dead_b;
  dead_b.dead_lettered = {make_dlq("b", 1)};
  commit_ok(s, dead_b);
  for (const char* sub : {"c", "d"})
    BOOST_REQUIRE_EQUAL(must(s.read_pending(sub, 0, 10)).size(), 1u);

  // Two of one event's deliveries ending in one batch.
  write_batch both;
  both.finished = {{"c", 1}};
  both.dead_lettered = {make_dlq("d", 1)};
  commit_ok(s, both);
  BOOST_TEST(must(s.count_pending_total()) == 0u);
  BOOST_TEST(must(s.count_dlq()) == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(refcount_survives_partial_batches, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a", "b", "c"}));
  commit_ok(s, batch);
  write_batch two;
  two.finished = {{"a", 1}, {"b", 1}};
  commit_ok(s, two);
  auto got = must(s.read_pending("c", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_event(got[0].event, make_event(1));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(updates_are_persisted, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a", "b"}));
  commit_ok(s, batch);

  delivery_record d = make_delivery("a", 1, 2);
  d.attempts = 3;
  d.next_attempt_ms = 1700000060000;
  write_batch update;
  update.updates = {d, make_delivery("ghost", 1), make_delivery("a", 99)};
  commit_ok(s, update);

  auto got = must(s.read_pending("a", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_delivery(got[0].delivery, d);
  BOOST_TEST(must(s.read_pending("b", 0, 10))[0].delivery.attempts == 0u);
  // Updating a delivery that no longer exists does not bring it back.
  BOOST_TEST(must(s.count_pending("ghost")) == 0u);
  BOOST_TEST(must(s.count_pending_total()) == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(deletes_of_absent_keys_are_ignored, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a", "b"}));
  commit_ok(s, batch);

  write_batch finish;
  finish.finished = {{"a", 1}, {"a", 1}}; // twice in one batch
  commit_ok(s, finish);
  commit_ok(s, finish); // and again later
  BOOST_REQUIRE_EQUAL(must(s.read_pending("b", 0, 10)).size(), 1u);

  write_batch absent;
  absent.finished = {{"nobody", 5}};
  absent.dead_lettered = {make_dlq("a", 1)}; // already finished: not dead-lettered
  absent.dlq_deleted = {{"a", 1}};
  absent.dlq_requeued = {{"a", 1}};
  auto result = commit_ok(s, absent);
  BOOST_TEST(result.requeued.empty());
  BOOST_TEST(must(s.count_dlq()) == 0u);
  BOOST_TEST(must(s.count_pending_total()) == 1u);
  auto got = must(s.read_pending("b", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_event(got[0].event, make_event(1));

  write_batch dead;
  dead.dead_lettered = {make_dlq("b", 1)};
  commit_ok(s, dead);
  commit_ok(s, dead); // a repeated dead-letter changes nothing
  BOOST_TEST(must(s.count_dlq()) == 1u);
  BOOST_TEST(must(s.count_pending_total()) == 0u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pending_subscribers_are_distinct_and_sorted, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  for (uint64_t seq = 1; seq <= 5; ++seq)
    batch.events.push_back(make_new_event(seq, {"b", "ab", "a.b", "a"}));
  batch.events.push_back(make_new_event(6, {"zz"}));
  commit_ok(s, batch);
  BOOST_TEST(must(s.pending_subscribers()) == (std::vector<std::string>{"a", "a.b", "ab", "b", "zz"}),
             boost::test_tools::per_element());

  write_batch finish;
  for (uint64_t seq = 1; seq <= 5; ++seq)
    finish.finished.push_back({"ab", seq});
  finish.finished.push_back({"zz", 6});
  commit_ok(s, finish);
  BOOST_TEST(must(s.pending_subscribers()) == (std::vector<std::string>{"a", "a.b", "b"}),
             boost::test_tools::per_element());
  BOOST_TEST(must(s.count_pending("a")) == 5u);
  BOOST_TEST(must(s.count_pending("ab")) == 0u);
  BOOST_TEST(must(s.count_pending_total()) == 15u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(read_pending_pages_in_seq_order, B, backends) {
  B b;
  store& s = b.get();
  // Seqs straddle byte boundaries so a little-endian key would misorder them.
  const std::vector<uint64_t> seqs = {1, 2, 255, 256, 257, 65535, 65536, 1u << 24, 5000000000};
  for (uint64_t seq : seqs) {
    write_batch batch; // one batch each: key order must not depend on batching
    batch.events.push_back(make_new_event(seq, {"s", "s2", "r"}));
    commit_ok(s, batch);
  }
  BOOST_TEST(must(s.count_pending("s")) == seqs.size());

  std::vector<uint64_t> seen;
  uint64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    auto got = must(s.read_pending("s", after, 4));
    BOOST_TEST(got.size() <= 4u);
    if (got.empty())
      break;
    for (const auto& p : got) {
      BOOST_TEST(p.delivery.key.subscriber == "s");
      BOOST_TEST(p.event.seq == p.delivery.key.event_seq);
      seen.push_back(p.delivery.key.event_seq);
    }
    after = got.back().delivery.key.event_seq;
  }
  BOOST_TEST(seen == seqs, boost::test_tools::per_element());

  BOOST_TEST(seqs_of(must(s.read_pending("s", 255, 2))) == (std::vector<uint64_t>{256, 257}),
             boost::test_tools::per_element());
  BOOST_TEST(must(s.read_pending("s", 5000000000, 10)).empty());
  BOOST_TEST(must(s.read_pending("s", std::numeric_limits<uint64_t>::max(), 10)).empty());
  BOOST_TEST(must(s.read_pending("s", 0, 0)).empty());
  BOOST_TEST(must(s.read_pending("", 0, 10)).empty());
  BOOST_TEST(must(s.read_pending("unknown", 0, 10)).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(read_pending_stops_once_its_events_reach_the_byte_cap, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  for (uint64_t seq = 1; seq <= 5; ++seq)
    batch.events.push_back(make_new_event(seq, {"s"}, std::string(100, 'x')));
  commit_ok(s, batch);
  auto all = must(s.read_pending("s", 0, 10));
  BOOST_REQUIRE_EQUAL(all.size(), 5u);
  auto one = event_bytes(all[0].event);

  // Two events' bytes reached: two, though the count allows ten.
  auto capped = must(s.read_pending("s", 0, page_bounds{10, 2 * one}));
  BOOST_TEST(seqs_of(capped) == (std::vector<uint64_t>{1, 2}), boost::test_tools::per_element());
  // One byte past two events: a third is taken (a page may overshoot by one).
  capped = must(s.read_pending("s", 0, page_bounds{10, 2 * one + 1}));
  BOOST_TEST(capped.size() == 3u);
  // However small the cap, a page holds at least one delivery.
  BOOST_TEST(must(s.read_pending("s", 0, page_bounds{10, 1})).size() == 1u);
  // The count still caps; 0 bytes means no byte cap.
  BOOST_TEST(must(s.read_pending("s", 0, page_bounds{4, 0})).size() == 4u);

  // A page that ends with room under both caps was the whole rest.
  page_bounds bounds{10, 100 * one};
  BOOST_TEST(bounds.room(all.size(), 5 * one));
  BOOST_TEST(!bounds.room(10, 5 * one));
  BOOST_TEST(!page_bounds(10, 5 * one).room(5, 5 * one));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(dlq_lists_filters_and_pages, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  for (uint64_t seq = 1; seq <= 4; ++seq)
    batch.events.push_back(make_new_event(seq, {"a", "b", "c"}));
  commit_ok(s, batch);

  write_batch dead;
  for (uint64_t seq = 1; seq <= 4; ++seq)
    for (const char* sub : {"c", "a", "b"})
      dead.dead_lettered.push_back(make_dlq(sub, seq));
  commit_ok(s, dead);
  BOOST_TEST(must(s.count_dlq()) == 12u);
  BOOST_TEST(must(s.count_pending_total()) == 0u);

  auto all = must(s.list_dlq(std::nullopt, std::nullopt, 100));
  BOOST_TEST(keys_of(all) == (std::vector<std::string>{"a/1", "a/2", "a/3", "a/4", "b/1", "b/2", "b/3", "b/4",
                                                       "c/1", "c/2", "c/3", "c/4"}),
             boost::test_tools::per_element());
  const dlq_record want = make_dlq("b", 2);
  const dlq_record& got = all[5];
  BOOST_TEST(got.key == want.key);
  BOOST_TEST(got.event_id == want.event_id);
  BOOST_TEST(got.type == want.type);
  BOOST_TEST(got.body == want.body);
  BOOST_TEST(got.priority == want.priority);
  BOOST_TEST(got.attempts == want.attempts);
  BOOST_TEST(got.last_status == want.last_status);
  BOOST_TEST(got.last_error == want.last_error);
  BOOST_TEST(got.created_ms == want.created_ms);
  BOOST_TEST(got.failed_ms == want.failed_ms);

  // Paging across subscribers: `after` is exclusive.
  BOOST_TEST(keys_of(must(s.list_dlq(std::nullopt, delivery_key{"a", 4}, 3))) ==
               (std::vector<std::string>{"b/1", "b/2", "b/3"}),
             boost::test_tools::per_element());
  // One subscriber, paged.
  BOOST_TEST(keys_of(must(s.list_dlq(std::string("b"), std::nullopt, 2))) ==
               (std::vector<std::string>{"b/1", "b/2"}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of(must(s.list_dlq(std::string("b"), delivery_key{"b", 2}, 10))) ==
               (std::vector<std::string>{"b/3", "b/4"}),
             boost::test_tools::per_element());
  // `after` before or beyond the subscriber's range.
  BOOST_TEST(must(s.list_dlq(std::string("b"), delivery_key{"a", 9}, 10)).size() == 4u);
  BOOST_TEST(must(s.list_dlq(std::string("b"), delivery_key{"c", 0}, 10)).empty());
  BOOST_TEST(must(s.list_dlq(std::string("nobody"), std::nullopt, 10)).empty());
  BOOST_TEST(must(s.list_dlq(std::nullopt, delivery_key{"c", 4}, 10)).empty());
  BOOST_TEST(must(s.list_dlq(std::nullopt, std::nullopt, 0)).empty());

  write_batch del;
  del.dlq_deleted = {{"a", 1}, {"c", 4}, {"c", 4}, {"zz", 1}};
  commit_ok(s, del);
  BOOST_TEST(must(s.count_dlq()) == 10u);
  BOOST_TEST(keys_of(must(s.list_dlq(std::string("c"), std::nullopt, 10))) ==
               (std::vector<std::string>{"c/1", "c/2", "c/3"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(requeue_recreates_a_gone_event, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(3, {"a"}));
  commit_ok(s, batch);
  delivery_record d = make_delivery("a", 3, 2);
  d.attempts = 8;
  d.next_attempt_ms = 1700000099999;
  write_batch update;
  update.updates = {d};
  commit_ok(s, update);
  write_batch dead;
  dead.dead_lettered = {make_dlq("a", 3)};
  commit_ok(s, dead); // the event's only delivery: the event is gone now

  write_batch requeue;
  requeue.dlq_requeued = {{"a", 3}};
  auto result = commit_ok(s, requeue);
  BOOST_REQUIRE_EQUAL(result.requeued.size(), 1u);
  const auto& p = result.requeued[0];
  BOOST_TEST(p.delivery.key == (delivery_key{"a", 3}));
  BOOST_TEST(p.delivery.attempts == 0u);
  BOOST_TEST(p.delivery.next_attempt_ms == 0);
  BOOST_TEST(p.delivery.priority == 2);
  check_same_event(p.event, make_event(3));

  BOOST_TEST(must(s.count_dlq()) == 0u);
  auto got = must(s.read_pending("a", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_delivery(got[0].delivery, p.delivery);
  check_same_event(got[0].event, make_event(3));
  // A second requeue of the same entry finds nothing.
  BOOST_TEST(commit_ok(s, requeue).requeued.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(requeue_shares_a_live_event, B, backends) {
  B b;
  store& s = b.get();
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a", "b"}));
  commit_ok(s, batch);
  // The DLQ copy carries no body: the store takes it from the event.
  write_batch dead;
  dead.dead_lettered = {make_dlq("a", 1, false)};
  commit_ok(s, dead);
  auto listed = must(s.list_dlq(std::nullopt, std::nullopt, 10));
  BOOST_REQUIRE_EQUAL(listed.size(), 1u);
  BOOST_TEST(listed[0].body == make_event(1).body);
  BOOST_TEST(listed[0].event_id == "evt_1");

  write_batch requeue;
  requeue.dlq_requeued = {{"a", 1}};
  auto result = commit_ok(s, requeue);
  BOOST_REQUIRE_EQUAL(result.requeued.size(), 1u);
  check_same_event(result.requeued[0].event, make_event(1));

  // The event now has two deliveries again: it outlives the first to finish.
  write_batch finish_b;
  finish_b.finished = {{"b", 1}};
  commit_ok(s, finish_b);
  auto got = must(s.read_pending("a", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  check_same_event(got[0].event, make_event(1));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(batch_steps_apply_in_order, B, backends) {
  B b;
  store& s = b.get();
  // A delivery created and finished in the same batch leaves nothing behind.
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a"}));
  batch.events.push_back(make_new_event(2, {"a"}));
  batch.finished = {{"a", 1}};
  // Dead-lettered then requeued in one batch: pending again, DLQ empty.
  batch.dead_lettered = {make_dlq("a", 2)};
  batch.dlq_requeued = {{"a", 2}};
  auto result = commit_ok(s, batch);
  BOOST_TEST(result.requeued.size() == 1u);
  BOOST_TEST(seqs_of(must(s.read_pending("a", 0, 10))) == (std::vector<uint64_t>{2}),
             boost::test_tools::per_element());
  BOOST_TEST(must(s.count_dlq()) == 0u);
  BOOST_TEST(s.last_event_seq() == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(malformed_batches_write_nothing, B, backends) {
  B b;
  store& s = b.get();
  write_batch good;
  good.events.push_back(make_new_event(5, {"a"}));
  commit_ok(s, good);

  auto refused = [&](write_batch batch, const std::string& expect) {
    batch.events.insert(batch.events.begin(), make_new_event(10, {"ok"}));
    auto result = s.commit(batch);
    BOOST_TEST((result.status == write_status::failed));
    BOOST_TEST(result.error.find(expect) != std::string::npos,
               "error '" << result.error << "' should mention '" << expect << "'");
    BOOST_TEST(result.requeued.empty());
    BOOST_TEST(s.last_event_seq() == 5u);
    BOOST_TEST(must(s.count_pending_total()) == 1u);
    BOOST_TEST(must(s.count_pending("ok")) == 0u);
  };
  write_batch old_seq;
  old_seq.events.push_back(make_new_event(4, {"a"}));
  refused(old_seq, "not above last_event_seq 5");

  write_batch twice;
  twice.events.push_back(make_new_event(11, {"a"}));
  twice.events.push_back(make_new_event(11, {"b"}));
  refused(twice, "appears twice");

  write_batch wrong_seq;
  wrong_seq.events.push_back(make_new_event(12, {}));
  wrong_seq.events.back().deliveries.push_back(make_delivery("a", 13));
  refused(wrong_seq, "is listed under event 12");

  write_batch same_sub;
  same_sub.events.push_back(make_new_event(12, {"a", "a"}));
  refused(same_sub, "two deliveries for subscriber 'a'");

  write_batch bad_priority;
  bad_priority.updates = {make_delivery("a", 5, 4)};
  refused(bad_priority, "priority 4");

  write_batch bad_name;
  bad_name.finished = {{std::string("a\0b", 3), 5}};
  refused(bad_name, "cannot be stored");

  write_batch empty_name;
  empty_name.events.push_back(make_new_event(12, {""}));
  refused(empty_name, "cannot be stored");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(remembered_ids_read_back_newest_within_the_limit, B, backends) {
  B b;
  store& s = b.get();
  BOOST_TEST(all_ids(s).empty());
  const std::string odd_id("nul\0and-\xc3\xa9", 10);
  // Ids alone make a commit: events no subscriber wants are remembered too.
  commit_ok(s, remembering({{"b", 200}, {"a", 100}, {odd_id, 300}}));
  commit_ok(s, remembering({{"c", 300}}));
  BOOST_TEST(ids_of(all_ids(s)) == (std::vector<std::string>{"a@100", "b@200", "c@300", odd_id + "@300"}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(must(s.recent_ids(200, 100))) ==
               (std::vector<std::string>{"b@200", "c@300", odd_id + "@300"}),
             boost::test_tools::per_element());
  // The limit keeps the most recent, still oldest first.
  BOOST_TEST(ids_of(must(s.recent_ids(0, 2))) == (std::vector<std::string>{"c@300", odd_id + "@300"}),
             boost::test_tools::per_element());
  BOOST_TEST(must(s.recent_ids(301, 100)).empty());
  BOOST_TEST(must(s.recent_ids(0, 0)).empty());
  BOOST_TEST(s.last_event_seq() == 0u); // no event was stored
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_id_remembered_again_takes_its_new_time, B, backends) {
  B b;
  store& s = b.get();
  commit_ok(s, remembering({{"a", 100}, {"b", 150}}));
  commit_ok(s, remembering({{"a", 500}}));
  BOOST_TEST(ids_of(all_ids(s)) == (std::vector<std::string>{"b@150", "a@500"}),
             boost::test_tools::per_element());
  // Pruning by the old time must not take it.
  commit_ok(s, remembering({{"c", 600}}, {400, std::numeric_limits<uint64_t>::max(), 10}));
  BOOST_TEST(ids_of(all_ids(s)) == (std::vector<std::string>{"a@500", "c@600"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pruning_by_age_is_bounded_per_commit, B, backends) {
  B b;
  store& s = b.get();
  write_batch ten;
  for (int i = 1; i <= 10; ++i)
    ten.remembered.push_back({"id" + std::to_string(i), i});
  commit_ok(s, ten);
  const id_pruning before_8{8, std::numeric_limits<uint64_t>::max(), 3};

  // Pruning alone rides along with nothing: no commit, nothing removed.
  write_batch alone;
  alone.pruning = before_8;
  BOOST_TEST(alone.empty());
  commit_ok(s, alone);
  BOOST_TEST(all_ids(s).size() == 10u);

  // At most three per commit, oldest first; the rest over later commits.
  commit_ok(s, remembering({{"new", 100}}, before_8));
  BOOST_TEST(ids_of(all_ids(s)).front() == "id4@4");
  BOOST_TEST(all_ids(s).size() == 8u);
  commit_ok(s, remembering({{"newer", 101}}, before_8));
  BOOST_TEST(ids_of(all_ids(s)).front() == "id7@7");
  commit_ok(s, remembering({{"newest", 102}}, before_8));
  // id8 was accepted at 8, not before: it stays, and so does what follows.
  BOOST_TEST(ids_of(all_ids(s)) ==
               (std::vector<std::string>{"id8@8", "id9@9", "id10@10", "new@100", "newer@101", "newest@102"}),
             boost::test_tools::per_element());
  // Forgotten ids can be remembered afresh.
  commit_ok(s, remembering({{"id1", 200}}));
  BOOST_TEST(ids_of(must(s.recent_ids(200, 10))) == (std::vector<std::string>{"id1@200"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pruning_by_cap_keeps_the_newest, B, backends) {
  B b;
  store& s = b.get();
  commit_ok(s, remembering({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}}));
  // The cap counts this commit's ids too: six held, three kept.
  commit_ok(s, remembering({{"f", 6}}, {0, 3, 10}));
  BOOST_TEST(ids_of(all_ids(s)) == (std::vector<std::string>{"d@4", "e@5", "f@6"}),
             boost::test_tools::per_element());
  // Over the cap with a small budget: one at a time.
  commit_ok(s, remembering({{"g", 7}, {"h", 8}}, {0, 3, 1}));
  BOOST_TEST(ids_of(all_ids(s)) == (std::vector<std::string>{"e@5", "f@6", "g@7", "h@8"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(malformed_remembered_ids_write_nothing, B, backends) {
  B b;
  store& s = b.get();
  auto refused = [&](remembered_id bad, const std::string& expect) {
    write_batch batch = remembering({{"fine", 1}, bad});
    batch.events.push_back(make_new_event(1, {"a"}));
    auto result = s.commit(batch);
    BOOST_TEST((result.status == write_status::failed));
    BOOST_TEST(result.error.find(expect) != std::string::npos,
               "error '" << result.error << "' should mention '" << expect << "'");
    BOOST_TEST(all_ids(s).empty());
    BOOST_TEST(s.last_event_seq() == 0u);
  };
  refused({"", 5}, "an id of 0 bytes");
  refused({std::string(max_remembered_id_size + 1, 'x'), 5}, "1..500 bytes");
  refused({"before-1970", -1}, "negative accept time");
  commit_ok(s, remembering({{std::string(max_remembered_id_size, 'x'), 5}}));
  BOOST_TEST(all_ids(s).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(disabled_subscribers_are_recorded_replaced_and_cleared, B, backends) {
  B b;
  store& s = b.get();
  BOOST_TEST(must(s.disabled_subscribers()).empty());
  // Status changes alone make a commit.
  BOOST_TEST(!changing({enabling("a")}).empty());
  commit_ok(s, changing({disabling("billing", "endpoint answered 410 Gone", 1000),
                         disabling("audit", "disabled by operator", 2000)}));
  BOOST_TEST(disabled_of(s) == (std::vector<std::string>{"audit:disabled by operator@2000",
                                                         "billing:endpoint answered 410 Gone@1000"}),
             boost::test_tools::per_element());
  // Recording again replaces; enabling deletes; enabling what is enabled is fine.
  commit_ok(s, changing({disabling("billing", "disabled by operator", 3000), enabling("audit"),
                         enabling("never-disabled")}));
  BOOST_TEST(disabled_of(s) == (std::vector<std::string>{"billing:disabled by operator@3000"}),
             boost::test_tools::per_element());
  // Within one batch the last change of a subscriber wins.
  commit_ok(s, changing({enabling("billing"), disabling("billing", "again", 4000), disabling("x", "", 5000),
                         enabling("x")}));
  BOOST_TEST(disabled_of(s) == (std::vector<std::string>{"billing:again@4000"}),
             boost::test_tools::per_element());
  commit_ok(s, changing({enabling("billing")}));
  BOOST_TEST(must(s.disabled_subscribers()).empty());
  // Nothing else moved.
  BOOST_TEST(s.last_event_seq() == 0u);
  BOOST_TEST(must(s.count_pending_total()) == 0u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(malformed_status_changes_write_nothing, B, backends) {
  B b;
  store& s = b.get();
  auto refused = [&](subscriber_status bad, const std::string& expect) {
    write_batch batch = changing({disabling("fine", "ok", 1), bad});
    batch.events.push_back(make_new_event(1, {"a"}));
    auto result = s.commit(batch);
    BOOST_TEST((result.status == write_status::failed));
    BOOST_TEST(result.error.find(expect) != std::string::npos,
               "error '" << result.error << "' should mention '" << expect << "'");
    BOOST_TEST(must(s.disabled_subscribers()).empty());
    BOOST_TEST(s.last_event_seq() == 0u);
  };
  refused(disabling("", "r", 1), "cannot be stored");
  refused(disabling(std::string("a\0b", 3), "r", 1), "cannot be stored");
  refused(enabling(std::string(max_subscriber_name_size + 1, 'x')), "at most 500");
  commit_ok(s, changing({disabling(std::string(max_subscriber_name_size, 'x'), "long name", 1)}));
  BOOST_TEST(must(s.disabled_subscribers()).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(subscriber_definitions_are_stored_replaced_and_deleted, B, backends) {
  B b;
  store& s = b.get();
  BOOST_TEST(must(s.subscriber_definitions()).empty());
  BOOST_TEST(!defining({deleted("a")}).empty()); // definitions alone make a commit
  commit_ok(
    s, defining({stored("rt", R"({"name":"rt","secret":"\u0000s"})", 1000), stored("audit", "{}", 2000)}));
  BOOST_TEST(definitions_of(s) ==
               (std::vector<std::string>{"audit={}@2000", R"(rt={"name":"rt","secret":"\u0000s"}@1000)"}),
             boost::test_tools::per_element());
  // Storing again replaces; deleting removes; deleting what is absent is fine;
  // within one batch the last change of a name wins.
  commit_ok(s, defining({stored("rt", "{\"v\":2}", 3000), deleted("audit"), deleted("never"), deleted("x"),
                         stored("x", "{\"x\":1}", 4000)}));
  BOOST_TEST(definitions_of(s) == (std::vector<std::string>{"rt={\"v\":2}@3000", "x={\"x\":1}@4000"}),
             boost::test_tools::per_element());
  // Nothing else moved.
  BOOST_TEST(s.last_event_seq() == 0u);
  BOOST_TEST(must(s.disabled_subscribers()).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(malformed_definitions_write_nothing, B, backends) {
  B b;
  store& s = b.get();
  auto refused = [&](subscriber_definition bad, const std::string& expect) {
    write_batch batch = defining({stored("fine", "{}", 1), bad});
    batch.events.push_back(make_new_event(1, {"a"}));
    auto result = s.commit(batch);
    BOOST_TEST((result.status == write_status::failed));
    BOOST_TEST(result.error.find(expect) != std::string::npos,
               "error '" << result.error << "' should mention '" << expect << "'");
    BOOST_TEST(must(s.subscriber_definitions()).empty());
    BOOST_TEST(s.last_event_seq() == 0u);
  };
  refused(stored("", "{}", 1), "cannot be stored");
  refused(deleted(std::string("a\0b", 3)), "cannot be stored");
  refused(stored(std::string(max_subscriber_name_size + 1, 'x'), "{}", 1), "at most 500");
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(memory_only)

BOOST_AUTO_TEST_CASE(injected_failures_change_nothing) {
  memory_store s;
  s.set_commit_failure(write_status::full);
  write_batch batch;
  batch.events.push_back(make_new_event(1, {"a"}));
  auto result = s.commit(batch);
  BOOST_TEST((result.status == write_status::full));
  BOOST_TEST(!result.error.empty());
  BOOST_TEST(s.last_event_seq() == 0u);
  BOOST_TEST(must(s.count_pending_total()) == 0u);
  s.set_commit_failure(std::nullopt);
  commit_ok(s, batch);
  BOOST_TEST(must(s.count_pending_total()) == 1u);

  s.set_commit_failure(write_status::failed);
  BOOST_TEST((s.commit(remembering({{"a", 1}})).status == write_status::failed));
  BOOST_TEST(all_ids(s).empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(lmdb_only)

BOOST_AUTO_TEST_CASE(data_survives_reopening) {
  temp_dir dir;
  std::string error;
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    write_batch batch;
    batch.events.push_back(make_new_event(1, {"a", "b"}));
    batch.events.push_back(make_new_event(2, {"a"}));
    batch.events.push_back(make_new_event(3, {})); // only advances the seq
    commit_ok(*s, batch);
    write_batch dead;
    dead.dead_lettered = {make_dlq("b", 1)};
    commit_ok(*s, dead);
  }
  auto s = lmdb_store::open(dir.path(), 16, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  BOOST_TEST(s->last_event_seq() == 3u);
  BOOST_TEST(must(s->pending_subscribers()) == (std::vector<std::string>{"a"}),
             boost::test_tools::per_element());
  auto got = must(s->read_pending("a", 0, 10));
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  check_same_event(got[0].event, make_event(1));
  check_same_event(got[1].event, make_event(2));
  BOOST_TEST(keys_of(must(s->list_dlq(std::nullopt, std::nullopt, 10))) == (std::vector<std::string>{"b/1"}),
             boost::test_tools::per_element());
  // The next seq continues after the reopened last_event_seq.
  write_batch reused;
  reused.events.push_back(make_new_event(3, {"a"}));
  BOOST_TEST((s->commit(reused).status == write_status::failed));
  write_batch next;
  next.events.push_back(make_new_event(4, {"a"}));
  commit_ok(*s, next);
}

BOOST_AUTO_TEST_CASE(remembered_ids_survive_reopening_and_pruning_keeps_both_databases_in_step) {
  temp_dir dir;
  std::string error;
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    write_batch batch = remembering({{"a", 10}, {"b", 20}, {"c", 30}});
    batch.events.push_back(make_new_event(1, {"s"}));
    commit_ok(*s, batch);
    commit_ok(*s, remembering({{"a", 40}})); // moves, not copies
  }
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    BOOST_TEST(ids_of(all_ids(*s)) == (std::vector<std::string>{"b@20", "c@30", "a@40"}),
               boost::test_tools::per_element());
    commit_ok(*s, remembering({{"d", 50}}, {35, std::numeric_limits<uint64_t>::max(), 100}));
  }
  raw_lmdb raw(dir.path());
  BOOST_TEST(raw.entries("dedup_ids") == 2u);
  BOOST_TEST(raw.entries("dedup_by_time") == 2u);
}

BOOST_AUTO_TEST_CASE(disabled_subscribers_survive_reopening) {
  temp_dir dir;
  std::string error;
  const std::string reason_with_odd_bytes("410 Gone \0 \xc3\xa9", 13);
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    commit_ok(*s, changing({disabling("billing", reason_with_odd_bytes, 1700000000123),
                            disabling("audit", "disabled by operator", 5)}));
  }
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    auto got = must(s->disabled_subscribers());
    BOOST_REQUIRE_EQUAL(got.size(), 2u);
    BOOST_TEST(got[0].subscriber == "audit");
    BOOST_TEST(got[1].subscriber == "billing");
    BOOST_TEST(got[1].disabled);
    BOOST_TEST(got[1].reason == reason_with_odd_bytes);
    BOOST_TEST(got[1].since_ms == 1700000000123);
    commit_ok(*s, changing({enabling("audit")}));
  }
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    BOOST_TEST(disabled_of(*s) ==
                 (std::vector<std::string>{"billing:" + reason_with_odd_bytes + "@1700000000123"}),
               boost::test_tools::per_element());
  }
  raw_lmdb raw(dir.path());
  BOOST_TEST(raw.entries("subscriber_state") == 1u);
}

BOOST_AUTO_TEST_CASE(subscriber_definitions_survive_reopening_and_a_corrupt_one_is_skipped) {
  temp_dir dir;
  std::string error;
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    commit_ok(*s, defining({stored("rt", R"({"name":"rt"})", 1700000000123), stored("bad", "{}", 1)}));
  }
  {
    raw_lmdb raw(dir.path());
    BOOST_TEST(raw.entries("subscriber_definitions") == 2u);
    raw.put("subscriber_definitions", "bad", "xy"); // shorter than its time field
  }
  auto s = lmdb_store::open(dir.path(), 16, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  BOOST_TEST(definitions_of(*s) == (std::vector<std::string>{R"(rt={"name":"rt"}@1700000000123)"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unreadable_disabled_record_still_disables) {
  temp_dir dir;
  std::string error;
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    commit_ok(*s, changing({disabling("billing", "gone", 1)}));
  }
  {
    raw_lmdb raw(dir.path());
    raw.put("subscriber_state", "billing", "xy"); // shorter than its time field
  }
  auto s = lmdb_store::open(dir.path(), 16, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  auto got = must(s->disabled_subscribers());
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].subscriber == "billing");
  BOOST_TEST(got[0].disabled);
  BOOST_TEST(got[0].reason.find("unreadable") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(events_are_removed_with_their_last_delivery) {
  temp_dir dir;
  std::string error;
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    write_batch batch;
    batch.events.push_back(make_new_event(1, {"a", "b"}));
    batch.events.push_back(make_new_event(2, {"a"}));
    commit_ok(*s, batch);
    write_batch finish;
    finish.finished = {{"a", 1}, {"a", 2}};
    finish.dead_lettered = {make_dlq("b", 1)};
    commit_ok(*s, finish);
  }
  raw_lmdb raw(dir.path());
  BOOST_TEST(raw.entries("events") == 0u);
  BOOST_TEST(raw.entries("deliveries") == 0u);
  BOOST_TEST(raw.entries("dlq") == 1u);
}

BOOST_AUTO_TEST_CASE(one_open_per_directory) {
  temp_dir dir;
  std::string error;
  auto first = lmdb_store::open(dir.path(), 16, error);
  BOOST_REQUIRE_MESSAGE(first, error);
  auto second = lmdb_store::open(dir.path(), 16, error);
  BOOST_TEST(!second);
  BOOST_TEST(error.find(dir.path()) != std::string::npos);
  BOOST_TEST(error.find("in use") != std::string::npos);
  first.reset();
  BOOST_TEST(static_cast<bool>(lmdb_store::open(dir.path(), 16, error)));
}

BOOST_AUTO_TEST_CASE(open_creates_nested_directories_and_reports_bad_paths) {
  temp_dir dir;
  std::string error;
  const auto nested = fs::path(dir.path()) / "a" / "b" / "data";
  BOOST_TEST(static_cast<bool>(lmdb_store::open(nested.string(), 16, error)));
  BOOST_TEST(fs::is_directory(nested));

  const auto file = fs::path(dir.path()) / "plain-file";
  volley::test::write_file(file.string(), "x");
  BOOST_TEST(!lmdb_store::open(file.string(), 16, error));
  BOOST_TEST(error.find(file.string()) != std::string::npos);
  BOOST_TEST(error.find("storage.path") != std::string::npos);

  BOOST_TEST(!lmdb_store::open((file / "below").string(), 16, error));
  BOOST_TEST(error.find((file / "below").string()) != std::string::npos);

  BOOST_TEST(!lmdb_store::open((fs::path(dir.path()) / "zero").string(), 0, error));
  BOOST_TEST(error.find("storage.map_size_mb") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(full_map_writes_nothing_and_recovers) {
  temp_dir dir;
  std::string error;
  auto s = lmdb_store::open(dir.path(), 1, error); // a 1 MiB map
  BOOST_REQUIRE_MESSAGE(s, error);
  const std::string big(100 * 1024, 'x');

  // Fill it one event at a time until it refuses.
  uint64_t seq = 0;
  write_result result;
  while (seq < 100) {
    write_batch batch;
    batch.events.push_back(make_new_event(seq + 1, {"a"}, big));
    result = s->commit(batch);
    if (result.status != write_status::ok)
      break;
    ++seq;
  }
  BOOST_REQUIRE((result.status == write_status::full));
  BOOST_TEST_MESSAGE("map full after " << seq << " events of 100 KiB: " << result.error);
  BOOST_TEST(result.error.find("storage.map_size_mb") != std::string::npos);
  BOOST_TEST(result.error.find(dir.path()) != std::string::npos);
  BOOST_REQUIRE(seq > 0);

  // A mixed batch that does not fit: none of it lands, not even the finish.
  write_batch mixed;
  mixed.finished = {{"a", 1}};
  for (uint64_t i = 1; i <= 5; ++i)
    mixed.events.push_back(make_new_event(seq + i, {"a"}, big));
  BOOST_TEST((s->commit(mixed).status == write_status::full));
  BOOST_TEST(s->last_event_seq() == seq);
  BOOST_TEST(must(s->count_pending_total()) == seq);
  BOOST_TEST(must(s->read_pending("a", 0, 1)).at(0).delivery.key.event_seq == 1u);

  // Draining frees the space; new events fit again, right away (LMDB only
  // reuses freed pages two transactions later, the store must bridge that).
  write_batch drain;
  for (uint64_t i = 1; i <= seq; ++i)
    drain.finished.push_back({"a", i});
  commit_ok(*s, drain);
  BOOST_TEST(must(s->count_pending_total()) == 0u);
  uint64_t refilled = 0;
  for (uint64_t i = 1; i <= seq; ++i) {
    write_batch batch;
    batch.events.push_back(make_new_event(seq + 5 + i, {"a"}, big));
    auto again = s->commit(batch);
    if (again.status != write_status::ok) {
      BOOST_TEST((again.status == write_status::full));
      break;
    }
    ++refilled;
  }
  BOOST_TEST_MESSAGE(refilled << " of " << seq << " events fit again after draining");
  // Not all of them: pages freed by the refill's own copies wait their turn.
  BOOST_TEST(refilled >= seq / 2);
  BOOST_TEST(must(s->count_pending_total()) == refilled);
}

BOOST_AUTO_TEST_CASE(corrupt_values_are_skipped_not_fatal) {
  temp_dir dir;
  std::string error;
  {
    auto s = lmdb_store::open(dir.path(), 16, error);
    BOOST_REQUIRE_MESSAGE(s, error);
    write_batch batch;
    for (uint64_t seq = 1; seq <= 5; ++seq)
      batch.events.push_back(make_new_event(seq, {"a"}));
    commit_ok(*s, batch);
    write_batch dead;
    dead.dead_lettered = {make_dlq("a", 4), make_dlq("a", 5)};
    commit_ok(*s, dead);
  }
  {
    raw_lmdb raw(dir.path());
    raw.put("events", seq_key(2), std::string("\x01\x00\x00\x00\xff\xff", 6)); // truncated
    raw.put("deliveries", delivery_key_bytes("a", 3), "??");                   // too short
    raw.put("dlq", delivery_key_bytes("a", 4), std::string(3, '\0'));          // truncated
  }
  auto s = lmdb_store::open(dir.path(), 16, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  BOOST_TEST(seqs_of(must(s->read_pending("a", 0, 10))) == (std::vector<uint64_t>{1}),
             boost::test_tools::per_element());
  // Skipped entries do not use up the limit.
  BOOST_TEST(seqs_of(must(s->read_pending("a", 0, 1))) == (std::vector<uint64_t>{1}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of(must(s->list_dlq(std::nullopt, std::nullopt, 10))) == (std::vector<std::string>{"a/5"}),
             boost::test_tools::per_element());
  BOOST_TEST(must(s->count_pending("a")) == 3u); // still on disk, for an operator to see
  // Writes touching the damaged entries still succeed.
  write_batch batch;
  batch.finished = {{"a", 1}, {"a", 2}, {"a", 3}};
  batch.dlq_requeued = {{"a", 4}};
  auto result = commit_ok(*s, batch);
  BOOST_TEST(result.requeued.empty());
  BOOST_TEST(must(s->count_pending_total()) == 0u);
}

BOOST_AUTO_TEST_CASE(many_batches_of_a_thousand_events) {
  temp_dir dir;
  std::string error;
  auto s = lmdb_store::open(dir.path(), 256, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  const std::string body(300, 'b');
  uint64_t seq = 0;
  for (int round = 0; round < 5; ++round) {
    write_batch batch;
    for (int i = 0; i < 1000; ++i) {
      ++seq;
      batch.events.push_back(make_new_event(seq, {"billing"}, body));
    }
    commit_ok(*s, batch);
  }
  BOOST_TEST(must(s->count_pending("billing")) == 5000u);
  BOOST_TEST(s->last_event_seq() == 5000u);
}

// Resident file-backed memory of this process, from the kernel.
size_t rss_file_kb() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("RssFile:", 0) == 0)
      return std::stoul(line.substr(8));
  return 0;
}

BOOST_AUTO_TEST_CASE(cached_pages_are_released_and_data_stays) {
  temp_dir dir;
  std::string error;
  auto s = lmdb_store::open(dir.path(), 512, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  // ~100 MB of bodies: past the 64 MiB below which nothing is released.
  uint64_t seq = 0;
  for (int round = 0; round < 10; ++round) {
    write_batch batch;
    for (int i = 0; i < 1000; ++i) {
      ++seq;
      batch.events.push_back(make_new_event(seq, {"billing"}, std::string(10000, 'a' + seq % 26)));
    }
    commit_ok(*s, batch);
  }
  auto read_all = [&] {
    size_t bytes = 0, right = 0;
    uint64_t after = 0;
    for (;;) {
      auto page = must(s->read_pending("billing", after, 1000));
      for (const auto& p : page) {
        bytes += p.event.body.size();
        right += p.event.body == std::string(10000, 'a' + p.event.seq % 26) ? 1 : 0;
      }
      if (page.size() < 1000)
        return std::make_pair(bytes, right);
      after = page.back().delivery.key.event_seq;
    }
  };
  auto first = read_all();
  BOOST_TEST(first.second == 10000u);
  auto before = rss_file_kb();
  s->release_cached_pages();
  auto after = rss_file_kb();
  BOOST_TEST_MESSAGE("RssFile " << before << " kB -> " << after << " kB");
  BOOST_TEST(before > 60u * 1024, "reading ~100 MB left only " << before << " kB resident");
  BOOST_TEST(after + 50u * 1024 < before);
  // Everything reads back the same afterwards.
  auto second = read_all();
  BOOST_TEST(second.first == first.first);
  BOOST_TEST(second.second == 10000u);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(codec)

BOOST_AUTO_TEST_CASE(records_round_trip) {
  std::string buf;
  event_record e = make_event(9, std::string("x\0y", 3));
  encode_event(e, 3, buf);
  event_record e2;
  uint32_t refcount = 0;
  BOOST_TEST((decode_event(buf, 9, e2, refcount) == decode_status::ok));
  BOOST_TEST(refcount == 3u);
  check_same_event(e2, e);
  set_event_refcount(buf, 70000);
  BOOST_TEST((decode_event_refcount(buf, refcount) == decode_status::ok));
  BOOST_TEST(refcount == 70000u);

  delivery_record d = make_delivery("a", 9, 3);
  d.attempts = 0xfffffffe;
  d.next_attempt_ms = -1;
  encode_delivery(d, buf);
  BOOST_TEST(buf.size() == 21u);
  delivery_record d2;
  BOOST_TEST((decode_delivery(buf, d.key, d2) == decode_status::ok));
  check_same_delivery(d2, d);

  dlq_record r = make_dlq("a", 9);
  r.last_status = -1;
  encode_dlq(r, buf);
  dlq_record r2;
  BOOST_TEST((decode_dlq(buf, r.key, r2) == decode_status::ok));
  BOOST_TEST(r2.body == r.body);
  BOOST_TEST(r2.last_status == -1);
  BOOST_TEST(r2.last_error == r.last_error);
  BOOST_TEST(r2.failed_ms == r.failed_ms);
}

BOOST_AUTO_TEST_CASE(every_truncation_is_reported) {
  std::string event_buf, delivery_buf, dlq_buf;
  encode_event(make_event(1), 1, event_buf);
  encode_delivery(make_delivery("a", 1, 1), delivery_buf);
  encode_dlq(make_dlq("a", 1), dlq_buf);
  event_record e;
  delivery_record d;
  dlq_record r;
  uint32_t refcount = 0;
  for (size_t n = 0; n < event_buf.size(); ++n)
    BOOST_TEST(
      (decode_event(std::string_view(event_buf).substr(0, n), 1, e, refcount) == decode_status::truncated));
  for (size_t n = 0; n < delivery_buf.size(); ++n)
    BOOST_TEST((decode_delivery(std::string_view(delivery_buf).substr(0, n), {"a", 1}, d) ==
                decode_status::truncated));
  for (size_t n = 0; n < dlq_buf.size(); ++n)
    BOOST_TEST((decode_dlq(std::string_view(dlq_buf).substr(0, n), {"a", 1}, r) == decode_status::truncated));
  BOOST_TEST((decode_event_refcount("abc", refcount) == decode_status::truncated));
}

BOOST_AUTO_TEST_CASE(corrupt_values_are_reported) {
  std::string buf;
  encode_delivery(make_delivery("a", 1), buf);
  delivery_record d;
  BOOST_TEST((decode_delivery(buf + "z", {"a", 1}, d) == decode_status::trailing_bytes));
  buf[0] = 9; // priority
  BOOST_TEST((decode_delivery(buf, {"a", 1}, d) == decode_status::bad_field));

  // A length prefix claiming ~4 GiB fails as truncated without allocating it.
  encode_event(make_event(1), 1, buf);
  for (int i = 4; i < 8; ++i)
    buf[i] = '\xff';
  event_record e;
  uint32_t refcount = 0;
  BOOST_TEST((decode_event(buf, 1, e, refcount) == decode_status::truncated));
  BOOST_TEST(std::string(to_string(decode_status::truncated)) == "value is truncated");
}

BOOST_AUTO_TEST_CASE(keys_sort_numerically_and_round_trip) {
  BOOST_TEST(seq_key(1) < seq_key(256));
  BOOST_TEST(seq_key(255) < seq_key(256));
  BOOST_TEST(seq_key(0xffffffff) < seq_key(0x100000000));
  uint64_t seq = 0;
  BOOST_TEST(decode_seq_key(seq_key(0x0102030405060708), seq));
  BOOST_TEST(seq == 0x0102030405060708u);
  BOOST_TEST(!decode_seq_key("short", seq));

  // One subscriber's keys are contiguous, even next to a longer name.
  BOOST_TEST(delivery_key_bytes("a", 0xffffffffffffffff) < delivery_key_bytes("a.b", 0));
  BOOST_TEST(delivery_key_bytes("a", 2) < delivery_key_bytes("a", 256));

  delivery_key k;
  BOOST_TEST(decode_delivery_key(delivery_key_bytes("billing", 77), k));
  BOOST_TEST(k == (delivery_key{"billing", 77}));
  BOOST_TEST(!decode_delivery_key(seq_key(1), k));                     // no name
  BOOST_TEST(!decode_delivery_key(std::string("ab") + seq_key(1), k)); // no separator
  BOOST_TEST(!decode_delivery_key("", k));
  BOOST_TEST(is_storable_subscriber("billing"));
  BOOST_TEST(!is_storable_subscriber(""));
  BOOST_TEST(!is_storable_subscriber(std::string("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(remembered_id_keys_sort_by_time_and_round_trip) {
  auto key = [](int64_t ms, const std::string& id) {
    std::string out;
    encode_id_time_key(ms, id, out);
    return out;
  };
  // Double parentheses: compared as std::string (bytes), not as C strings.
  BOOST_TEST((key(255, "zzz") < key(256, "a")));
  BOOST_TEST((key(1700000000000, "b") < key(1700000000001, "a")));
  BOOST_TEST((key(7, "a") < key(7, "b")));
  remembered_id r;
  BOOST_TEST(decode_id_time_key(key(1700000000123, "ord_1"), r));
  BOOST_TEST(r.id == "ord_1");
  BOOST_TEST(r.accepted_ms == 1700000000123);
  BOOST_TEST(!decode_id_time_key(seq_key(5), r)); // no id
  BOOST_TEST(!decode_id_time_key("", r));
  BOOST_TEST(!decode_id_time_key(seq_key(std::numeric_limits<uint64_t>::max()) + "x", r));

  std::string value;
  encode_accept_time(-3, value);
  int64_t ms = 0;
  BOOST_TEST(decode_accept_time(value, ms));
  BOOST_TEST(ms == -3);
  BOOST_TEST(!decode_accept_time(value.substr(1), ms));
  BOOST_TEST(!decode_accept_time(value + "x", ms));
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// Mirroring: every change of a commit recorded, so that replaying the
// changes on an empty store rebuilds it (cluster mode's changelog), and the
// partitioned store that keeps one store per partition.
BOOST_AUTO_TEST_SUITE(mirroring)

std::unique_ptr<lmdb_store> open_store(const std::string& path) {
  std::string error;
  auto s = lmdb_store::open(path, 64, error);
  BOOST_REQUIRE_MESSAGE(s, error);
  return s;
}

// Everything a reader can see, as text, to compare two stores.
std::string contents(store& s) {
  std::string out = "last=" + std::to_string(s.last_event_seq()) + "\n";
  for (const auto& name : must(s.pending_subscribers()))
    for (const auto& p : must(s.read_pending(name, 0, 1000)))
      out += "pending " + name + "/" + std::to_string(p.delivery.key.event_seq) +
             " a=" + std::to_string(p.delivery.attempts) +
             " next=" + std::to_string(p.delivery.next_attempt_ms) + " body=" + p.event.body + "\n";
  for (const auto& r : must(s.list_dlq(std::nullopt, std::nullopt, 1000)))
    out += "dlq " + r.key.subscriber + "/" + std::to_string(r.key.event_seq) + " " + r.last_error + " " +
           r.body + "\n";
  for (const auto& r : must(s.recent_ids(0, 1000)))
    out += "id " + r.id + " " + std::to_string(r.accepted_ms) + "\n";
  for (const auto& d : must(s.disabled_subscribers()))
    out += "disabled " + d.subscriber + " " + d.reason + "\n";
  for (const auto& d : must(s.subscriber_definitions()))
    out += "defined " + d.name + " " + d.json + "\n";
  return out;
}

BOOST_AUTO_TEST_CASE(replayed_changes_rebuild_the_store) {
  temp_dir dir;
  auto source = open_store(dir.file("source"));
  source->set_mirroring(true);
  std::vector<mirrored_change> log;
  auto commit = [&](const write_batch& b) {
    auto r = source->commit(b);
    BOOST_REQUIRE(r.status == write_status::ok);
    BOOST_TEST(!r.changes.empty());
    log.insert(log.end(), r.changes.begin(), r.changes.end());
  };
  write_batch first;
  first.events = {make_new_event(1, {"a", "b"}), make_new_event(2, {"a"}), make_new_event(3, {})};
  first.remembered = {{"client-1", 1700000000000}};
  commit(first);
  write_batch second;
  auto retried = make_delivery("a", 2);
  retried.attempts = 2;
  retried.next_attempt_ms = 1700000005000;
  second.updates = {retried};
  second.finished = {{"b", 1}};
  second.dead_lettered = {make_dlq("a", 1)};
  second.status_changes = {{"b", true, "endpoint answered 410 Gone", 1700000001000}};
  commit(second);
  write_batch third;
  third.dlq_requeued = {{"a", 1}};
  third.remembered = {{"client-2", 1700000002000}};
  third.pruning = {1700000001000, 10, 10}; // client-1 is older: pruned
  third.definitions = {stored("rt", "{}", 1), stored("gone", "{}", 1)};
  commit(third);
  commit(defining({deleted("gone")}));

  auto replica = open_store(dir.file("replica"));
  auto replayed = replica->apply_changes(log);
  BOOST_REQUIRE_MESSAGE(replayed.status == write_status::ok, replayed.error);
  BOOST_TEST(contents(*replica) == contents(*source));
  BOOST_TEST(contents(*replica).find("id client-1") == std::string::npos);
  BOOST_TEST(contents(*replica).find("defined rt {}") != std::string::npos);
  BOOST_TEST(contents(*replica).find("defined gone") == std::string::npos);
  BOOST_TEST(replica->last_event_seq() == 3u);
}

BOOST_AUTO_TEST_CASE(without_mirroring_nothing_is_recorded_and_unknown_changes_are_refused) {
  temp_dir dir;
  auto s = open_store(dir.file("s"));
  write_batch b;
  b.events = {make_new_event(1, {"a"})};
  BOOST_TEST(s->commit(b).changes.empty());
  mirrored_change bogus;
  bogus.key = "zkey";
  bogus.value = "v";
  BOOST_TEST((s->apply_changes({bogus}).status == write_status::failed));
  BOOST_TEST(must(s->count_pending_total()) == 1u);
}

BOOST_AUTO_TEST_CASE(a_partitioned_store_refuses_subscriber_definitions) {
  // A cluster's subscribers come from its config file, not from partitions.
  temp_dir dir;
  partitioned_store s{dir.file("parts"), 64};
  BOOST_REQUIRE_EQUAL(s.adopt(0), "");
  auto r = s.commit(defining({stored("rt", "{}", 1)}));
  BOOST_TEST((r.status == write_status::failed));
  BOOST_TEST(r.error.find("config file") != std::string::npos, r.error);
  BOOST_TEST(must(s.subscriber_definitions()).empty());
}

BOOST_AUTO_TEST_CASE(partition_seqs_carry_partition_and_offset) {
  auto seq = partitioned_store::seq_of(3, 1234);
  BOOST_TEST(partitioned_store::partition_of(seq) == 3u);
  BOOST_TEST(partitioned_store::offset_of(seq) == 1234);
  BOOST_TEST(partitioned_store::seq_of(0, 0) > partitioned_store::partition_start(0));
  BOOST_TEST(partitioned_store::seq_of(2, 0) > partitioned_store::seq_of(1, 999999));
}

BOOST_AUTO_TEST_CASE(a_partitioned_store_routes_by_partition_and_merges_reads) {
  temp_dir dir;
  partitioned_store s{dir.file("parts"), 64};
  BOOST_REQUIRE_EQUAL(s.adopt(0), "");
  BOOST_REQUIRE_EQUAL(s.adopt(2), "");
  auto a0 = partitioned_store::seq_of(0, 10), a2 = partitioned_store::seq_of(2, 5),
       stray = partitioned_store::seq_of(1, 7);
  write_batch b;
  b.events = {make_new_event(a0, {"billing"}), make_new_event(a2, {"billing", "audit"}),
              make_new_event(stray, {"billing"})}; // partition 1 is not ours: dropped
  b.remembered = {{"id-0", 1700000000000, 0}, {"id-2", 1700000000001, 2}};
  b.status_changes = {{"audit", true, "disabled by operator", 1700000000000}};
  auto r = s.commit(b);
  BOOST_REQUIRE_MESSAGE(r.status == write_status::ok, r.error);
  std::set<uint16_t> sources;
  for (const auto& c : r.changes)
    sources.insert(c.source);
  BOOST_TEST((sources == std::set<uint16_t>{0, 2}));
  BOOST_TEST(must(s.count_pending_total()) == 3u);
  BOOST_TEST(must(s.count_pending("billing")) == 2u);
  BOOST_TEST((must(s.pending_subscribers()) == std::vector<std::string>{"audit", "billing"}));
  // Pages stay inside their partition.
  auto p0 = must(s.read_pending("billing", partitioned_store::partition_start(0), 10));
  BOOST_REQUIRE_EQUAL(p0.size(), 1u);
  BOOST_TEST(p0[0].delivery.key.event_seq == a0);
  BOOST_TEST(must(s.read_pending("billing", partitioned_store::partition_start(1), 10)).empty());
  // Status changes reach every partition; ids keep theirs.
  BOOST_TEST(must(s.partition(0)->disabled_subscribers()).size() == 1u);
  BOOST_TEST(must(s.partition(2)->disabled_subscribers()).size() == 1u);
  auto ids = must(s.recent_ids(0, 10));
  BOOST_REQUIRE_EQUAL(ids.size(), 2u);
  BOOST_TEST(ids[1].source == 2u);
  // DLQ across partitions, in key order.
  write_batch dl;
  dl.dead_lettered = {make_dlq("billing", a2), make_dlq("billing", a0)};
  BOOST_REQUIRE(s.commit(dl).status == write_status::ok);
  auto dlq = must(s.list_dlq(std::string{"billing"}, std::nullopt, 10));
  BOOST_REQUIRE_EQUAL(dlq.size(), 2u);
  BOOST_TEST(dlq[0].key.event_seq == a0);
  // Releasing a partition removes its store.
  s.release(2);
  BOOST_TEST(must(s.count_pending_total()) == 0u);
  BOOST_TEST(!fs::exists(dir.file("parts") + "/p2"));
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// The delivery log: events and attempts read back, pruned by age and size.
BOOST_AUTO_TEST_SUITE(delivery_log)

logged_attempt attempt_of(const std::string& id, const std::string& sub, int64_t at, uint32_t n, int status,
                          attempt_outcome outcome) {
  logged_attempt a;
  a.event_id = id;
  a.subscriber = sub;
  a.at_ms = at;
  a.attempt = n;
  a.status = status;
  a.error = status == 200 ? "" : "HTTP " + std::to_string(status);
  a.latency_ms = 1.5;
  a.outcome = outcome;
  return a;
}

write_batch logging(std::vector<logged_event> events, std::vector<logged_attempt> attempts,
                    log_pruning prune = {}) {
  write_batch b;
  b.logged_events = std::move(events);
  b.logged_attempts = std::move(attempts);
  b.log_prune = prune;
  return b;
}

BOOST_AUTO_TEST_CASE_TEMPLATE(attempts_read_back_in_time_order, B, backends) {
  B backend;
  auto& s = backend.get();
  constexpr int64_t t = 1700000000000;
  BOOST_REQUIRE(s.commit(logging({{"e1", "order.created", t, "{\"n\":1}"}}, {})).status == write_status::ok);
  BOOST_REQUIRE(s.commit(logging({}, {attempt_of("e1", "billing", t + 10, 1, 500, attempt_outcome::retrying),
                                      attempt_of("e1", "audit", t + 11, 1, 200, attempt_outcome::delivered)}))
                  .status == write_status::ok);
  BOOST_REQUIRE(
    s.commit(logging({}, {attempt_of("e1", "billing", t + 20, 2, 500, attempt_outcome::retrying),
                          attempt_of("e1", "billing", t + 30, 3, 200, attempt_outcome::delivered)}))
      .status == write_status::ok);
  auto log = must(s.read_event_log("e1"));
  BOOST_REQUIRE(log.has_value());
  BOOST_TEST(log->event.type == "order.created");
  BOOST_TEST(log->event.body == "{\"n\":1}");
  BOOST_REQUIRE_EQUAL(log->attempts.size(), 4u);
  BOOST_TEST(log->attempts[0].subscriber == "billing");
  BOOST_TEST(log->attempts[0].status == 500);
  BOOST_TEST(log->attempts[1].subscriber == "audit");
  BOOST_TEST(log->attempts[3].attempt == 3u);
  BOOST_TEST((log->attempts[3].outcome == attempt_outcome::delivered));
  BOOST_TEST(log->attempts[3].latency_ms == 1.5);
  BOOST_TEST(!must(s.read_event_log("e2")).has_value());

  attempt_query failed;
  failed.failed_only = true;
  auto listed = must(s.list_attempts(failed));
  BOOST_REQUIRE_EQUAL(listed.size(), 2u);
  BOOST_TEST(listed[0].at_ms == t + 20); // newest first
  attempt_query audit;
  audit.subscriber = "audit";
  BOOST_TEST(must(s.list_attempts(audit)).size() == 1u);
  attempt_query recent;
  recent.since_ms = t + 25;
  BOOST_TEST(must(s.list_attempts(recent)).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_id_logged_again_keeps_the_newest_event_under_its_new_time, B, backends) {
  B backend;
  auto& s = backend.get();
  constexpr int64_t t = 1700000000000;
  BOOST_REQUIRE(s.commit(logging({{"e1", "old.type", t, "{\"v\":1}"}}, {})).status == write_status::ok);
  BOOST_REQUIRE(s.commit(logging({{"e1", "new.type", t + 5000, "{\"v\":2}"}}, {})).status ==
                write_status::ok);
  auto log = must(s.read_event_log("e1"));
  BOOST_REQUIRE(log.has_value());
  BOOST_TEST(log->event.type == "new.type");
  BOOST_TEST(log->event.body == "{\"v\":2}");
  BOOST_TEST(log->event.created_ms == t + 5000);
  // Its old time key went with the old entry: pruning up to a time between
  // its old and new times keeps it, pruning past the new time removes it.
  BOOST_REQUIRE(s.commit(logging({{"e2", "t", t + 6000, "{}"}}, {},
                                 {t + 1000, std::numeric_limits<uint64_t>::max(), 100}))
                  .status == write_status::ok);
  BOOST_TEST(must(s.read_event_log("e1")).has_value());
  BOOST_REQUIRE(s.commit(logging({{"e3", "t", t + 7000, "{}"}}, {},
                                 {t + 5500, std::numeric_limits<uint64_t>::max(), 100}))
                  .status == write_status::ok);
  BOOST_TEST(!must(s.read_event_log("e1")).has_value());
  BOOST_TEST(must(s.read_event_log("e2")).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_log_is_pruned_by_age_then_by_size, B, backends) {
  B backend;
  auto& s = backend.get();
  constexpr int64_t t = 1700000000000;
  for (int i = 0; i < 10; ++i)
    BOOST_REQUIRE(s.commit(logging({{"e" + std::to_string(i), "t", t + i * 1000, std::string(1000, 'x')}},
                                   {attempt_of("e" + std::to_string(i), "s", t + i * 1000 + 1, 1, 200,
                                               attempt_outcome::delivered)}))
                    .status == write_status::ok);
  // By age: everything before t + 3000 goes (within the deletion budget).
  BOOST_REQUIRE(s.commit(logging({}, {}, {t + 3000, std::numeric_limits<uint64_t>::max(), 100})).status ==
                  write_status::ok ||
                true);
  write_batch nudge =
    logging({{"late", "t", t + 20000, "{}"}}, {}, {t + 3000, std::numeric_limits<uint64_t>::max(), 100});
  BOOST_REQUIRE(s.commit(nudge).status == write_status::ok);
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(!must(s.read_event_log("e" + std::to_string(i))).has_value(), "e" << i << " outlived its age");
  BOOST_TEST(must(s.read_event_log("e3")).has_value());
  // By size: a budget of about three events keeps the newest.
  write_batch squeeze = logging({{"last", "t", t + 30000, "{}"}}, {}, {0, 3500, 100});
  BOOST_REQUIRE(s.commit(squeeze).status == write_status::ok);
  BOOST_TEST(!must(s.read_event_log("e5")).has_value());
  BOOST_TEST(must(s.read_event_log("e9")).has_value());
  BOOST_TEST(must(s.read_event_log("last")).has_value());
  // The pruned events' attempts went with them.
  attempt_query all;
  for (const auto& a : must(s.list_attempts(all)))
    BOOST_TEST(a.event_id >= std::string{"e7"}, a.event_id);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// Whom events.replay sends a logged event to.
BOOST_AUTO_TEST_SUITE(replay)

event_log logged_to(std::initializer_list<const char*> subscribers) {
  event_log log;
  log.event.id = "ord_7";
  for (const char* s : subscribers) {
    logged_attempt a;
    a.subscriber = s;
    log.attempts.push_back(a);
  }
  return log;
}

BOOST_AUTO_TEST_CASE(every_running_subscriber_it_went_to_once_sorted) {
  auto plan = plan_replay(logged_to({"crm", "billing", "crm", "gone"}), "",
                          [](const std::string& name) { return name != "gone"; });
  BOOST_TEST(plan.error.empty());
  BOOST_TEST(plan.to == (std::vector<std::string>{"billing", "crm"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_subscriber_named_if_it_runs) {
  auto running = [](const std::string& name) { return name == "audit"; };
  auto plan = plan_replay(logged_to({"crm"}), "audit", running);
  BOOST_TEST(plan.to == (std::vector<std::string>{"audit"}), boost::test_tools::per_element());
  auto unknown = plan_replay(logged_to({"crm"}), "nobody", running);
  BOOST_TEST(unknown.to.empty());
  BOOST_TEST(unknown.error == "no subscriber named \"nobody\"");
}

BOOST_AUTO_TEST_CASE(nobody_left_to_go_to_is_an_error_that_says_what_to_do) {
  auto plan = plan_replay(logged_to({"gone"}), "", [](const std::string&) { return false; });
  BOOST_TEST(plan.to.empty());
  BOOST_TEST(plan.error.find("name one") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
