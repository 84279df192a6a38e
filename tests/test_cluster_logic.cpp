// Cluster mode's plain logic: which consumed offsets may be committed.
#define BOOST_TEST_MODULE cluster_logic
#include <boost/test/unit_test.hpp>

#include "cluster/group_assignment.hpp"
#include "cluster/offset_tracker.hpp"
#include "cluster/topic_event.hpp"

#include <chrono>
#include <thread>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

namespace std {
// For Boost.Test's failure messages.
inline ostream& operator<<(ostream& os, const optional<int64_t>& v) { return v ? os << *v : os << "nothing"; }
} // namespace std

namespace {

std::optional<int64_t> next_commit(offset_tracker& t, int32_t partition) {
  std::optional<int64_t> out;
  for (const auto& c : t.take_commits())
    if (c.partition == partition)
      out = c.offset;
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(offsets)

BOOST_AUTO_TEST_CASE(commits_stop_at_the_first_record_not_done) {
  offset_tracker t;
  for (int64_t o = 10; o < 15; ++o)
    t.track(0, o);
  BOOST_TEST(t.in_flight() == 5u);
  t.done(0, 11); // out of order: a malformed record rejected at once
  BOOST_TEST(!next_commit(t, 0));
  t.done(0, 10);
  BOOST_TEST(next_commit(t, 0) == 12); // 10 and 11 done
  BOOST_TEST(!next_commit(t, 0));      // taken already
  t.done(0, 13);
  t.done(0, 12);
  BOOST_TEST(next_commit(t, 0) == 14);
  BOOST_TEST(t.in_flight() == 1u);
  t.done(0, 12); // twice: nothing changes
  BOOST_TEST(t.in_flight() == 1u);
}

BOOST_AUTO_TEST_CASE(partitions_are_independent) {
  offset_tracker t;
  t.track(0, 5);
  t.track(1, 7);
  t.done(1, 7);
  auto commits = t.take_commits();
  BOOST_REQUIRE_EQUAL(commits.size(), 1u);
  BOOST_TEST(commits[0].partition == 1);
  BOOST_TEST(commits[0].offset == 8);
  BOOST_TEST(!t.committable(0));
}

BOOST_AUTO_TEST_CASE(a_failure_rewinds_the_partition_once) {
  offset_tracker t;
  for (int64_t o = 0; o < 5; ++o)
    t.track(3, o);
  t.done(3, 0);
  t.done(3, 1);
  BOOST_TEST(t.failed(3, 2));  // the first failure: seek back to 2
  BOOST_TEST(!t.failed(3, 3)); // the rest of that flight: nothing more to do
  BOOST_TEST(t.rewind_point(3) == 2);
  BOOST_TEST(t.in_flight() == 0u); // 2..4 are read again, not owed now
  BOOST_TEST(t.committable(3) == 2);
  t.rewound(3);
  t.track(3, 2);
  t.done(3, 2);
  BOOST_TEST(next_commit(t, 3) == 3);
}

BOOST_AUTO_TEST_CASE(draining_waits_for_the_partition_only) {
  offset_tracker t;
  t.track(0, 1);
  t.track(1, 1);
  std::thread actor{[&] { t.done(0, 1); }};
  BOOST_TEST(t.wait_drained(0, 30s));
  actor.join();
  BOOST_TEST(!t.wait_drained(1, 1ms)); // partition 1 still owes one: times out
  t.forget(1);
  BOOST_TEST(t.in_flight() == 0u);
  BOOST_TEST(t.wait_drained(1, 1ms));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(assignments)

BOOST_AUTO_TEST_CASE(a_member_assignment_decodes) {
  // version 1; one topic "ev" with partitions 0 and 3; empty user data
  const std::string bytes{"\x00\x01"
                          "\x00\x00\x00\x01"
                          "\x00\x02"
                          "ev"
                          "\x00\x00\x00\x02"
                          "\x00\x00\x00\x00"
                          "\x00\x00\x00\x03"
                          "\x00\x00\x00\x00",
                          24};
  auto a = decode_member_assignment(bytes);
  BOOST_REQUIRE(a.has_value());
  BOOST_REQUIRE_EQUAL(a->size(), 1u);
  BOOST_TEST((*a)[0].topic == "ev");
  BOOST_TEST(((*a)[0].partitions == std::vector<int32_t>{0, 3}));
  BOOST_TEST(decode_member_assignment("").value().empty());
  BOOST_TEST(!decode_member_assignment(bytes.substr(0, 9)).has_value()); // cut short
  BOOST_TEST(!decode_member_assignment(std::string{"\x00\x01\xff\xff\xff\xff", 6}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// A record of the events topic: an event, or why it is skipped.
BOOST_AUTO_TEST_SUITE(records)

kafka_record record(std::optional<std::string> value, int32_t partition = 2, int64_t offset = 40) {
  kafka_record r;
  r.partition = partition;
  r.offset = offset;
  r.value = std::move(value);
  return r;
}

BOOST_AUTO_TEST_CASE(an_event_line_is_an_event_with_the_clients_id) {
  auto e = read_topic_event(record(R"({"type":"order.created","id":"ord_1","data":{"n":1}})"));
  BOOST_REQUIRE(e.event);
  BOOST_TEST(e.event->id == "ord_1");
  BOOST_TEST(e.event->type == "order.created");
  BOOST_TEST(e.client_id);
}

BOOST_AUTO_TEST_CASE(without_an_id_it_is_named_after_where_it_is) {
  auto e = read_topic_event(record(R"({"type":"x"})", 3, 1234));
  BOOST_REQUIRE(e.event);
  BOOST_TEST(e.event->id == "evt_p3_o1234"); // the same on every node that reads it
  BOOST_TEST(!e.client_id);
  // An id shaped like Volley's own is not remembered as the client's.
  auto generated = read_topic_event(record(R"({"type":"x","id":"evt_0123456789abcdef0123456789abcdef"})"));
  BOOST_REQUIRE(generated.event);
  BOOST_TEST(!generated.client_id);
}

BOOST_AUTO_TEST_CASE(what_is_not_an_event_is_skipped_with_the_reason) {
  BOOST_TEST(read_topic_event(record(std::nullopt)).rejected == "a record without a value is not an event");
  BOOST_TEST(read_topic_event(record(R"({"op":"stats"})")).rejected == "a control line is not an event");
  auto bad = read_topic_event(record("not json"));
  BOOST_TEST(!bad.event);
  BOOST_TEST(bad.rejected.find("invalid JSON") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
