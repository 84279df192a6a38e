// Deduplication of client event ids: the window itself (plain logic), the
// persistence actor's decisions against a memory store with commit failures
// injected, and the real volleyd across restarts and a full storage map.

#define BOOST_TEST_MODULE dedup
#include <boost/test/unit_test.hpp>

#include "actors/persistence.hpp"
#include "storage/dedup_window.hpp"
#include "storage/memory_store.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/must.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"
#include "time/timestamp.hpp"

#include <caf/all.hpp>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace volley;
using namespace volley::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t hour_ms = 3'600'000;

// An answer line in one word: "ok", "duplicate" or "error".
std::string answer_kind(const std::string& line) {
  if (line.rfind("{\"ok\":true", 0) != 0)
    return "error";
  return line.find("\"duplicate\":true") != std::string::npos ? "duplicate" : "ok";
}

std::vector<std::string> outcomes(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& line : lines)
    out.push_back(answer_kind(line));
  return out;
}

std::vector<std::string> ids_of(const std::vector<remembered_id>& ids) {
  std::vector<std::string> out;
  for (const auto& r : ids)
    out.push_back(r.id);
  return out;
}

std::vector<remembered_id> all_ids(store& s) {
  return must(s.recent_ids(std::numeric_limits<int64_t>::min(), std::numeric_limits<size_t>::max()));
}

using words = std::vector<std::string>;

} // namespace

// ============================================================================
BOOST_AUTO_TEST_SUITE(window)

BOOST_AUTO_TEST_CASE(repeat_within_window_is_seen) {
  dedup_window window{1000};
  BOOST_TEST(!window.seen("a", 10'000));
  BOOST_TEST(window.seen("a", 10'000));
  BOOST_TEST(window.seen("a", 10'500));
  BOOST_TEST(window.seen("a", 11'000)); // exactly the window: still inside
  BOOST_TEST(!window.seen("b", 11'000));
}

BOOST_AUTO_TEST_CASE(id_expires_after_the_window_and_is_recorded_again) {
  dedup_window window{1000};
  BOOST_TEST(!window.seen("a", 10'000));
  BOOST_TEST(!window.seen("a", 11'001));
  BOOST_TEST(window.seen("a", 11'500));
  BOOST_TEST(window.seen("a", 12'001));
  BOOST_TEST(!window.seen("a", 12'002));
}

BOOST_AUTO_TEST_CASE(window_runs_from_the_first_sighting) {
  dedup_window window{1000};
  BOOST_TEST(!window.seen("a", 5000));
  BOOST_TEST(window.seen("a", 5900)); // a repeat does not extend the window
  BOOST_TEST(!window.seen("a", 6001));
}

BOOST_AUTO_TEST_CASE(ids_expire_independently) {
  dedup_window window{1000};
  BOOST_TEST(!window.seen("a", 1000));
  BOOST_TEST(!window.seen("b", 1600));
  BOOST_TEST(!window.seen("a", 2001)); // a expired
  BOOST_TEST(window.seen("b", 2001));  // b did not
  BOOST_TEST(!window.seen("b", 2601));
  BOOST_TEST(window.seen("a", 2601)); // a was recorded again at 2001
}

BOOST_AUTO_TEST_CASE(many_ids) {
  dedup_window window{100};
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST(!window.seen("id" + std::to_string(i), i));
  BOOST_TEST(window.size() == 101u); // 899..999: memory stays bounded by the window
  // Ids from the last 100 ms are remembered, older ones are gone.
  BOOST_TEST(window.seen("id999", 1000));
  BOOST_TEST(window.seen("id900", 1000));
  BOOST_TEST(!window.seen("id899", 1000));
  BOOST_TEST(!window.seen("id0", 1000));
}

BOOST_AUTO_TEST_CASE(times_out_of_order_still_expire_by_their_own_age) {
  dedup_window window{100};
  window.remember("late", 100);
  window.remember("early", 50); // another connection's older event
  BOOST_TEST(window.contains("late", 151));
  BOOST_TEST(!window.contains("early", 151));
}

BOOST_AUTO_TEST_CASE(the_cap_forgets_the_oldest_first) {
  dedup_window window{hour_ms, 3};
  for (const char* id : {"a", "b", "c", "d"})
    window.remember(id, 10);
  BOOST_TEST(window.size() == 3u);
  BOOST_TEST(!window.contains("a", 20));
  BOOST_TEST(window.contains("b", 20));
  BOOST_TEST(window.contains("d", 20));
  window.remember("e", 30);
  BOOST_TEST(!window.contains("b", 40));
  BOOST_TEST(window.contains("c", 40));
}

BOOST_AUTO_TEST_CASE(a_forgotten_id_is_new_again_and_frees_its_place) {
  dedup_window window{hour_ms, 2};
  window.remember("a", 1);
  window.remember("b", 2);
  window.forget("b");
  BOOST_TEST(!window.contains("b", 3));
  BOOST_TEST(window.size() == 1u);
  window.remember("c", 3); // b's place, not a's
  BOOST_TEST(window.contains("a", 4));
  BOOST_TEST(window.contains("c", 4));
  BOOST_TEST(!window.seen("b", 5)); // recorded afresh
  BOOST_TEST(window.contains("b", 6));
  BOOST_TEST(!window.contains("a", 6)); // the cap took the oldest
  window.forget("never-there");
  BOOST_TEST(window.size() == 2u);
}

BOOST_AUTO_TEST_CASE(forgetting_the_oldest_leaves_the_rest_to_expire_on_time) {
  dedup_window window{10};
  window.remember("a", 1);
  window.remember("b", 2);
  window.remember("c", 3);
  window.forget("a");
  BOOST_TEST(window.contains("b", 12));
  BOOST_TEST(!window.contains("b", 13));
  BOOST_TEST(window.contains("c", 13));
}

BOOST_AUTO_TEST_CASE(remembering_again_moves_an_id_forward) {
  dedup_window window{10};
  window.remember("a", 1);
  window.remember("a", 5);
  // The entry of the first sighting expires at 12 without taking the second.
  BOOST_TEST(window.contains("a", 14));
  BOOST_TEST(window.size() == 1u);
  BOOST_TEST(!window.contains("a", 16));
  BOOST_TEST(window.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_zero_window_is_off) {
  dedup_window window{0};
  BOOST_TEST(!window.enabled());
  BOOST_TEST(!window.seen("a", 1));
  BOOST_TEST(!window.seen("a", 1));
  BOOST_TEST(window.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// The persistence actor on a memory store: the decisions only it can make,
// because only it knows whether a commit stuck.
namespace {

struct sent_event {
  std::string id;
  bool client_id = true; // false: as if generated by the router
  bool wanted = true;    // false: no subscriber matched
};

struct persistence_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<memory_store> db = std::make_shared<memory_store>();
  caf::scoped_actor self{sys};
  caf::actor actor;

  ~persistence_fixture() {
    if (actor)
      self->send_exit(actor, caf::exit_reason::user_shutdown);
  }

  void start(int64_t window_ms = hour_ms, size_t max_ids = 1000) {
    persistence_options options;
    options.dedup_window_ms = window_ms;
    options.dedup_max_ids = max_ids;
    persistence_deps deps;
    deps.db = db;
    actor = sys.spawn<caf::detached>(persistence, deps, options);
  }

  // One routed batch, as the router sends it; the answers in order. Answers
  // arrive after the commit, so the store is quiet once this returns.
  words publish(const std::vector<sent_event>& events) {
    persist_batch batch;
    batch.reply_to = caf::actor_cast<caf::actor>(self);
    for (const auto& e : events) {
      routed_event ev;
      ev.slot = batch.events.size();
      ev.client_id = e.client_id;
      auto payload = std::make_shared<event_payload>();
      payload->id = e.id;
      payload->type = "dedup.test";
      payload->created_ms = unix_ms_now();
      payload->body = std::make_shared<const std::string>("{\"id\":\"" + e.id + "\"}");
      ev.payload = std::move(payload);
      if (e.wanted)
        ev.targets.push_back({"s", 0});
      batch.events.push_back(std::move(ev));
    }
    self->send(actor, persist_atom::value, std::move(batch));
    words lines(events.size());
    size_t answered = 0;
    bool timed_out = false;
    while (answered < events.size() && !timed_out)
      self->receive(
        [&](ack_atom, ack_batch& acks) {
          for (auto& a : acks.acks) {
            lines.at(a.slot) = a.line;
            ++answered;
          }
        },
        caf::after(std::chrono::seconds(30)) >> [&] { timed_out = true; });
    BOOST_REQUIRE_MESSAGE(!timed_out, "persistence answered " << answered << " of " << events.size());
    return outcomes(lines);
  }

  words publish(std::initializer_list<const char*> client_ids) {
    std::vector<sent_event> events;
    for (const char* id : client_ids)
      events.push_back({id});
    return publish(events);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(persistence_actor, persistence_fixture)

BOOST_AUTO_TEST_CASE(a_repeat_of_a_committed_id_is_acknowledged_and_stored_once) {
  start();
  BOOST_TEST(publish({"x"}) == words{"ok"}, boost::test_tools::per_element());
  BOOST_TEST(publish({"x"}) == words{"duplicate"}, boost::test_tools::per_element());
  BOOST_TEST(must(db->count_pending("s")) == 1u);
  BOOST_TEST(ids_of(all_ids(*db)) == words{"x"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_id_whose_commit_failed_is_accepted_when_sent_again) {
  start();
  db->set_commit_failure(write_status::full);
  BOOST_TEST(publish({"x"}) == words{"error"}, boost::test_tools::per_element());
  db->set_commit_failure(std::nullopt);
  BOOST_TEST(publish({"x"}) == words{"ok"}, boost::test_tools::per_element());
  BOOST_TEST(must(db->count_pending("s")) == 1u);
  BOOST_TEST(publish({"x"}) == words{"duplicate"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_repeat_in_the_same_batch_shares_its_originals_fate) {
  start();
  db->set_commit_failure(write_status::failed);
  BOOST_TEST(publish({"x", "x"}) == (words{"error", "error"}), boost::test_tools::per_element());
  db->set_commit_failure(std::nullopt);
  BOOST_TEST(publish({"x", "x"}) == (words{"ok", "duplicate"}), boost::test_tools::per_element());
  BOOST_TEST(must(db->count_pending("s")) == 1u);
}

BOOST_AUTO_TEST_CASE(a_repeat_of_a_committed_id_stays_acknowledged_when_its_batch_fails) {
  start();
  BOOST_TEST(publish({"x"}) == words{"ok"}, boost::test_tools::per_element());
  db->set_commit_failure(write_status::full);
  BOOST_TEST(publish({"x", "y"}) == (words{"duplicate", "error"}), boost::test_tools::per_element());
  db->set_commit_failure(std::nullopt);
  BOOST_TEST(publish({"y", "x"}) == (words{"ok", "duplicate"}), boost::test_tools::per_element());
  BOOST_TEST(must(db->count_pending("s")) == 2u);
}

BOOST_AUTO_TEST_CASE(ids_of_unwanted_events_are_remembered_and_generated_ids_are_not) {
  start();
  BOOST_TEST(publish({{"unwanted", true, false}, {"evt_generated", false, true}}) == (words{"ok", "ok"}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(all_ids(*db)) == words{"unwanted"}, boost::test_tools::per_element());
  // Later wanted under the same id: still a repeat.
  BOOST_TEST(publish({"unwanted"}) == words{"duplicate"}, boost::test_tools::per_element());
  BOOST_TEST(must(db->count_pending("s")) == 1u); // the generated one only
}

BOOST_AUTO_TEST_CASE(the_window_is_seeded_from_the_store_at_start) {
  auto now = unix_ms_now();
  write_batch earlier;
  earlier.remembered = {{"old", now - 2 * hour_ms}, {"recent", now - 1000}};
  BOOST_REQUIRE(db->commit(earlier).status == write_status::ok);
  start();
  BOOST_TEST(publish({"recent", "old"}) == (words{"duplicate", "ok"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(commits_prune_what_the_window_no_longer_holds) {
  auto now = unix_ms_now();
  write_batch earlier;
  for (int i = 0; i < 5; ++i)
    earlier.remembered.push_back({"old" + std::to_string(i), now - 2 * hour_ms});
  BOOST_REQUIRE(db->commit(earlier).status == write_status::ok);
  start(hour_ms, 3);
  BOOST_TEST(publish({"a"}) == words{"ok"}, boost::test_tools::per_element());
  BOOST_TEST(ids_of(all_ids(*db)) == words{"a"}, boost::test_tools::per_element()); // by age
  BOOST_TEST(publish({"b", "c", "d"}) == (words{"ok", "ok", "ok"}), boost::test_tools::per_element());
  BOOST_TEST(ids_of(all_ids(*db)) == (words{"b", "c", "d"}), boost::test_tools::per_element()); // by cap
  // Disk and memory agree: the cap took "a" from both.
  BOOST_TEST(publish({"a", "d"}) == (words{"ok", "duplicate"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_zero_window_delivers_every_repeat_and_remembers_nothing) {
  auto now = unix_ms_now();
  write_batch earlier;
  earlier.remembered = {{"from-before", now - 1000}};
  BOOST_REQUIRE(db->commit(earlier).status == write_status::ok);
  start(0);
  BOOST_TEST(publish({"x", "x", "from-before"}) == (words{"ok", "ok", "ok"}),
             boost::test_tools::per_element());
  BOOST_TEST(must(db->count_pending("s")) == 3u);
  BOOST_TEST(all_ids(*db).empty()); // what an earlier run remembered is pruned
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// The real volleyd.
namespace {

std::string event(const std::string& id, const std::string& type = "dedup.test", size_t payload = 0) {
  return "{\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"data\":\"" + std::string(payload, 'x') + "\"}";
}

// Nothing pending on disk any more: every delivery so far finished.
bool queue_empty(uint16_t port) {
  line_client client{port};
  client.send_line(R"({"op":"queue"})");
  auto answer = client.read_line();
  return answer && answer->rfind("{\"ok\":true,\"pending\":0,", 0) == 0;
}

size_t times_delivered(const recording_receiver& r, const std::string& id) {
  auto seen = r.per_event();
  auto it = seen.find(id);
  return it == seen.end() ? 0 : it->second;
}

// After a marker published last is delivered and nothing is left pending,
// every earlier event that was going to be delivered has been.
void wait_for_marker(running_node& n, const recording_receiver& r, const std::string& marker) {
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return times_delivered(r, marker) > 0; }, 60s),
                        marker << " was not delivered");
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return queue_empty(n.port()); }, 60s),
                        "deliveries still pending after " << marker);
}

} // namespace

BOOST_AUTO_TEST_SUITE(end_to_end)

BOOST_AUTO_TEST_CASE(a_repeat_after_a_restart_is_acknowledged_and_not_delivered_again) {
  recording_receiver receiver;
  running_node n;
  n.spec.subscribers = {{"s", receiver.url(), {}, "", ""}};
  n.start();
  {
    line_client client{n.port()};
    BOOST_TEST(outcomes(client.exchange({event("once-1")})) == words{"ok"}, boost::test_tools::per_element());
  }
  BOOST_REQUIRE(wait_until([&] { return times_delivered(receiver, "once-1") == 1; }));
  BOOST_REQUIRE_EQUAL(n.stop(), 0);

  n.start(); // the same data directory
  {
    line_client client{n.port()};
    BOOST_TEST(outcomes(client.exchange({event("once-1"), event("marker-1")})) == (words{"duplicate", "ok"}),
               boost::test_tools::per_element());
  }
  wait_for_marker(n, receiver, "marker-1");
  BOOST_TEST(times_delivered(receiver, "once-1") == 1u);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_repeat_after_kill_9_is_recognised_even_for_an_event_nobody_wanted) {
  recording_receiver receiver;
  running_node n;
  n.spec.subscribers = {{"s", receiver.url(), {"wanted.*"}, "", ""}};
  n.start();
  {
    // Acknowledged means on disk, id included: killed right after the ack.
    line_client client{n.port()};
    BOOST_TEST(outcomes(client.exchange({event("k-unwanted", "unwanted.thing")})) == words{"ok"},
               boost::test_tools::per_element());
  }
  n.process().kill_hard();

  n.start();
  {
    line_client client{n.port()};
    BOOST_TEST(outcomes(client.exchange({event("k-wanted", "wanted.thing")})) == words{"ok"},
               boost::test_tools::per_element());
  }
  // Delivered and finished on disk, so the kill cannot cause a redelivery.
  wait_for_marker(n, receiver, "k-wanted");
  n.process().kill_hard();

  n.start();
  {
    line_client client{n.port()};
    BOOST_TEST(outcomes(client.exchange(
                 {event("k-unwanted", "wanted.thing"), event("k-wanted", "wanted.thing"),
                  event("marker-2", "wanted.thing")})) == (words{"duplicate", "duplicate", "ok"}),
               boost::test_tools::per_element());
  }
  wait_for_marker(n, receiver, "marker-2");
  BOOST_TEST(times_delivered(receiver, "k-unwanted") == 0u);
  BOOST_TEST(times_delivered(receiver, "k-wanted") == 1u);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(an_id_refused_by_a_full_map_is_accepted_when_sent_again) {
  auto endpoint = free_port(); // down at first: deliveries pile up on disk
  running_node n;
  // A short breaker cooldown: the backlog drains soon after the endpoint is back.
  n.start("{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + n.spec.data_dir +
          "\", \"map_size_mb\": 2}, \"allow_private_networks\": true, \"subscribers\": [{\"name\": "
          "\"s\", \"url\": \"http://127.0.0.1:" +
          std::to_string(endpoint) +
          "/hook\", \"backoff\": {\"base_ms\": 20, \"max_ms\": 100}, \"max_attempts\": 10000, "
          "\"breaker\": {\"cooldown_ms\": 100, \"max_cooldown_ms\": 200}}]}");
  line_client client{n.port()};
  std::string refused_id;
  size_t accepted = 0;
  for (int i = 0; i < 200 && refused_id.empty(); ++i) {
    auto id = "full-" + std::to_string(i);
    client.send_line(event(id, "dedup.test", 50000));
    auto answer = client.read_line();
    BOOST_REQUIRE(answer);
    if (answer_kind(*answer) == "ok")
      ++accepted;
    else
      refused_id = id;
  }
  BOOST_REQUIRE_MESSAGE(!refused_id.empty(), "a 2 MB map took 200 events of 50 KB");

  // The endpoint comes back and drains the backlog; the refused event, sent
  // again under its id, must be taken as new, not as a repeat.
  recording_receiver receiver{"", endpoint};
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return receiver.distinct() >= accepted; }, 60s),
                        "delivered " << receiver.distinct() << " of " << accepted);
  std::string retried;
  BOOST_CHECK(wait_until(
    [&] {
      client.send_line(event(refused_id, "dedup.test", 1000));
      auto answer = client.read_line();
      retried = answer ? answer_kind(*answer) : "no answer";
      return retried != "error";
    },
    30s));
  BOOST_TEST(retried == "ok");
  BOOST_CHECK_MESSAGE(wait_until([&] { return times_delivered(receiver, refused_id) == 1; }, 30s),
                      refused_id << " delivered " << times_delivered(receiver, refused_id) << " times");
  client.send_line(event(refused_id, "dedup.test", 1000));
  auto again = client.read_line();
  BOOST_REQUIRE(again);
  BOOST_TEST(answer_kind(*again) == "duplicate");
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
