// Group commit and the operator's store queries, on memory_store with no
// actor system: who hears what after a commit, and what the ops answer.
#define BOOST_TEST_MODULE write_coalescer
#include <boost/test/unit_test.hpp>

#include "protocol/dlq_entries.hpp"
#include "protocol/ingress_line.hpp"
#include "storage/memory_store.hpp"
#include "storage/store_queries.hpp"
#include "storage/write_coalescer.hpp"
#include "tests/support/must.hpp"

#include <string>
#include <vector>

using namespace volley;
using volley::test::must;

namespace {

constexpr int64_t t0 = 1700000000000;
constexpr int64_t hour_ms = 3600 * 1000;

routed_event event(uint64_t slot, const std::string& id, std::vector<std::string> subscribers,
                   bool client_id = true) {
  routed_event ev;
  ev.slot = slot;
  ev.client_id = client_id;
  ev.payload = std::make_shared<event_payload>();
  ev.payload->id = id;
  ev.payload->type = "order.created";
  ev.payload->created_ms = t0;
  ev.payload->body = std::make_shared<const std::string>("{\"id\":\"" + id + "\"}");
  for (auto& s : subscribers)
    ev.targets.push_back({s, 0});
  return ev;
}

std::vector<routed_event> events(std::initializer_list<routed_event> list) { return list; }

// "ok", "duplicate" or "error" per answer, in order.
std::vector<std::string> kinds(const std::vector<write_coalescer::answer>& answers) {
  std::vector<std::string> out;
  for (const auto& a : answers)
    out.push_back(a.line.find("\"duplicate\":true") != std::string::npos ? "duplicate"
                  : a.line.find("\"ok\":true") != std::string::npos      ? "ok"
                                                                         : "error");
  return out;
}

using words = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(coalescer)

BOOST_AUTO_TEST_CASE(one_commit_answers_every_batch_in_arrival_order) {
  memory_store db;
  write_coalescer w{0, dedup_window{}};
  w.add_events(events({event(0, "a", {"s"}), event(1, "b", {})}), 7);
  w.add_events(events({event(0, "c", {"s", "t"})}), 3);
  BOOST_TEST(w.pending_records() == 2u); // the unwanted event writes nothing
  auto out = w.commit(db, t0);
  BOOST_TEST(out.ok);
  BOOST_REQUIRE_EQUAL(out.answers.size(), 3u);
  BOOST_TEST(out.answers[0].reply == 7u);
  BOOST_TEST(out.answers[1].slot == 1u);
  BOOST_TEST(out.answers[2].reply == 3u);
  BOOST_TEST(out.answers[0].line == "{\"ok\":true,\"id\":\"a\"}\n");
  BOOST_REQUIRE_EQUAL(out.deliveries["s"].size(), 2u);
  BOOST_TEST(out.deliveries["s"][0].record.key.event_seq < out.deliveries["s"][1].record.key.event_seq);
  BOOST_TEST(out.deliveries["t"].size() == 1u);
  BOOST_TEST(must(db.count_pending_total()) == 3u);
  BOOST_TEST(w.idle());
}

BOOST_AUTO_TEST_CASE(a_failed_commit_answers_errors_and_keeps_subscriber_writes) {
  memory_store db;
  write_coalescer w{0, dedup_window{}};
  w.add_events(events({event(0, "a", {"s"})}), 0);
  BOOST_REQUIRE(w.commit(db, t0).ok);
  db.set_commit_failure(write_status::full);
  write_batch results;
  results.finished.push_back({"s", 1});
  w.add_writes(std::move(results));
  w.add_events(events({event(0, "b", {"s"})}), 0);
  auto failed = w.commit(db, t0);
  BOOST_TEST(!failed.ok);
  BOOST_TEST(failed.retry_soon);
  BOOST_TEST(kinds(failed.answers) == words{"error"}, boost::test_tools::per_element());
  BOOST_TEST(failed.answers[0].line.find("not accepted: ") != std::string::npos);
  BOOST_TEST(failed.deliveries.empty());
  db.set_commit_failure(std::nullopt);
  auto retried = w.commit(db, t0); // the kept result, not the refused event
  BOOST_TEST(retried.ok);
  BOOST_TEST(retried.answers.empty());
  BOOST_TEST(must(db.count_pending_total()) == 0u);
}

BOOST_AUTO_TEST_CASE(dedup_answers_depend_on_the_commits_fate) {
  memory_store db;
  write_coalescer w{0, dedup_window{hour_ms, 100}};
  w.add_events(events({event(0, "x", {"s"}), event(1, "x", {"s"})}), 0);
  db.set_commit_failure(write_status::failed);
  BOOST_TEST(kinds(w.commit(db, t0).answers) == (words{"error", "error"}), boost::test_tools::per_element());
  db.set_commit_failure(std::nullopt);
  // Forgotten after the failure: accepted now, the repeat in its batch marked.
  w.add_events(events({event(0, "x", {"s"}), event(1, "x", {"s"})}), 0);
  BOOST_TEST(kinds(w.commit(db, t0).answers) == (words{"ok", "duplicate"}), boost::test_tools::per_element());
  // A repeat of a committed id stays acknowledged even when its batch fails.
  db.set_commit_failure(write_status::full);
  w.add_events(events({event(0, "x", {"s"}), event(1, "y", {"s"})}), 0);
  BOOST_TEST(kinds(w.commit(db, t0).answers) == (words{"duplicate", "error"}),
             boost::test_tools::per_element());
  db.set_commit_failure(std::nullopt);
  BOOST_TEST(must(db.count_pending("s")) == 1u);
  // Generated ids are never deduplicated.
  w.add_events(events({event(0, "x", {"s"}, false)}), 0);
  BOOST_TEST(kinds(w.commit(db, t0).answers) == words{"ok"}, boost::test_tools::per_element());
  // Every answer above counted once, by kind.
  BOOST_TEST(w.answered().accepted == 2u);
  BOOST_TEST(w.answered().duplicates == 2u);
  BOOST_TEST(w.answered().refused == 3u);
}

BOOST_AUTO_TEST_CASE(subscriber_definitions_ride_with_the_writes) {
  memory_store db;
  write_coalescer w{0, dedup_window{}};
  write_batch change;
  change.definitions.push_back({"rt", "{}", t0, false});
  w.add_writes(std::move(change));
  BOOST_TEST(w.pending_records() == 1u);
  BOOST_TEST(w.commit(db, t0).ok);
  BOOST_REQUIRE_EQUAL(must(db.subscriber_definitions()).size(), 1u);
  BOOST_TEST(w.idle());
}

BOOST_AUTO_TEST_CASE(the_window_is_seeded_and_pruned) {
  memory_store db;
  write_batch earlier;
  earlier.remembered = {{"old", t0 - 2 * hour_ms}, {"recent", t0 - 1000}};
  BOOST_REQUIRE(db.commit(earlier).status == write_status::ok);
  write_coalescer w{0, dedup_window{hour_ms, 100}};
  w.seed_dedup(must(db.recent_ids(t0 - hour_ms, 100)));
  w.add_events(events({event(0, "recent", {"s"}), event(1, "new", {"s"})}), 0);
  BOOST_TEST(kinds(w.commit(db, t0).answers) == (words{"duplicate", "ok"}), boost::test_tools::per_element());
  auto ids = must(db.recent_ids(0, 100));
  BOOST_REQUIRE_EQUAL(ids.size(), 2u); // "old" pruned by age with the commit
  BOOST_TEST(ids[0].id == "recent");
  BOOST_TEST(ids[1].id == "new");
}

BOOST_AUTO_TEST_CASE(disabled_subscribers_follow_the_latest_writes) {
  write_coalescer w{0, dedup_window{}};
  w.seed_disabled({{"a", true, "endpoint answered 410 Gone", t0}});
  write_batch b;
  b.status_changes.push_back({"b", true, "disabled by operator", t0});
  b.status_changes.push_back({"a", false, "", t0});
  w.add_writes(std::move(b));
  auto now = w.disabled();
  BOOST_REQUIRE_EQUAL(now.size(), 1u);
  BOOST_TEST(now[0].subscriber == "b");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(queries)

// Two pending for "s" (priorities 0 and 3), one for the unconfigured "gone",
// three dead letters of "s".
void fill(memory_store& db) {
  write_batch b;
  uint64_t seq = 0;
  auto add = [&](const std::string& sub, uint8_t prio) {
    new_event ev;
    ev.event = {++seq, "e" + std::to_string(seq), "t", t0, "{}"};
    delivery_record d;
    d.key = {sub, seq};
    d.priority = prio;
    ev.deliveries.push_back(d);
    b.events.push_back(ev);
  };
  add("s", 0);
  add("s", 3);
  add("gone", 1);
  for (int i = 0; i < 3; ++i)
    add("s", 0);
  BOOST_REQUIRE(db.commit(b).status == write_status::ok);
  write_batch dl;
  for (uint64_t k = 4; k <= 6; ++k) {
    dlq_record r;
    r.key = {"s", k};
    r.last_error = "HTTP 404";
    dl.dead_lettered.push_back(r);
  }
  BOOST_REQUIRE(db.commit(dl).status == write_status::ok);
}

control_request dlq(control_op op) {
  control_request r;
  r.op = op;
  r.limit = 2;
  return r;
}

BOOST_AUTO_TEST_CASE(queue_shows_leftovers_and_configured_subscribers) {
  memory_store db;
  fill(db);
  auto answer = must(queue_answer(db, {"s", "idle"}));
  BOOST_TEST(answer ==
             "{\"ok\":true,\"pending\":3,\"dlq\":3,\"subscribers\":["
             "{\"subscriber\":\"gone\",\"configured\":false,\"pending\":1,\"by_priority\":[0,1,0,0]},"
             "{\"subscriber\":\"idle\",\"configured\":true,\"pending\":0,\"by_priority\":[0,0,0,0]},"
             "{\"subscriber\":\"s\",\"configured\":true,\"pending\":2,\"by_priority\":[1,0,0,1]}]}\n");
}

BOOST_AUTO_TEST_CASE(dlq_list_pages) {
  memory_store db;
  fill(db);
  auto first = must(dlq_list_answer(db, dlq(control_op::dlq_list)));
  BOOST_TEST(first.find("\"next\":\"s/5\"") != std::string::npos);
  auto req = dlq(control_op::dlq_list);
  req.after = delivery_key{"s", 5};
  auto last = must(dlq_list_answer(db, req));
  BOOST_TEST(last.find("\"key\":\"s/6\"") != std::string::npos);
  BOOST_TEST(last.find("\"next\":null") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dlq_changes_count_what_changed_and_hand_back_requeued) {
  memory_store db;
  fill(db);
  auto one = dlq(control_op::dlq_delete);
  one.key = delivery_key{"s", 4};
  BOOST_TEST(change_dlq(db, one).answer == "{\"ok\":true,\"count\":1}\n");
  // Gone already: a named entry that is not there is refused, not "0 done".
  BOOST_TEST(change_dlq(db, one).answer == error_line(no_dlq_entry_error(delivery_key{"s", 4})));
  auto never = dlq(control_op::dlq_retry);
  never.key = delivery_key{"nosuch", 12345};
  BOOST_TEST(change_dlq(db, never).answer.rfind(
               "{\"ok\":false,\"error\":\"no dead-letter entry nosuch/12345 ", 0) == 0u);
  auto all = dlq(control_op::dlq_retry);
  all.subscriber = "s";
  auto change = change_dlq(db, all);
  BOOST_TEST(change.answer == "{\"ok\":true,\"count\":2}\n");
  BOOST_REQUIRE_EQUAL(change.requeued["s"].size(), 2u);
  BOOST_TEST(*change.requeued["s"][0].payload->body == "{}");
  BOOST_TEST(must(db.count_dlq()) == 0u);
}

BOOST_AUTO_TEST_CASE(read_failures_are_answers_not_empty_lists) {
  memory_store db;
  fill(db);
  db.set_read_failure(std::string{"disk on fire"});
  auto listed = dlq_list_answer(db, dlq(control_op::dlq_list));
  BOOST_TEST(!listed);
  BOOST_TEST(listed.error() == "disk on fire");
  BOOST_TEST(!queue_answer(db, {"s"}));
  auto all = dlq(control_op::dlq_delete);
  all.subscriber = "s";
  BOOST_TEST(change_dlq(db, all).answer == "{\"ok\":false,\"error\":\"dlq.delete failed: disk on fire\"}\n");
}

BOOST_AUTO_TEST_SUITE_END()
