// The actors wired as the node wires them (router -> persistence ->
// subscriber), run on CAF's test_coordinator: one message at a time, virtual
// time for retry timers and breaker cooldowns, a memory store, and an HTTP
// transport the test answers request by request. No real sleeps anywhere.
#define BOOST_TEST_MODULE actor_wiring
#include <boost/test/unit_test.hpp>

#include "tests/support/actor_fixture.hpp"
#include "tests/support/must.hpp"

#include <string>
#include <vector>

using namespace volley;
using namespace volley::test;
using namespace std::chrono_literals;

namespace {

subscriber_config sub(const std::string& name) {
  subscriber_config c;
  c.name = name;
  c.url = "http://127.0.0.1:9/" + name;
  c.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  c.max_attempts = 10;
  c.max_in_flight = 4;
  c.backoff.base_ms = 1000;
  c.backoff.max_ms = 60000;
  c.backoff.jitter = 0;
  c.breaker.failure_threshold = 3;
  c.breaker.cooldown_ms = 5000;
  c.breaker.max_cooldown_ms = 20000;
  return c;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(wiring, actor_fixture)

BOOST_AUTO_TEST_CASE(events_are_acked_after_the_commit_and_delivered_signed) {
  wire({sub("billing")});
  publish({"order.created", "order.paid"});
  BOOST_REQUIRE_EQUAL(seen->acks.size(), 2u);
  BOOST_TEST(seen->acks[0].slot == 0u);
  BOOST_TEST(seen->acks[1].slot == 1u);
  BOOST_TEST(must(db->count_pending("billing")) == 2u); // on disk before the ack
  BOOST_REQUIRE_EQUAL(transport.open(), 2u);
  BOOST_TEST(transport.header(0, "X-Event-Type") == "order.created");
  BOOST_TEST(transport.header(0, "webhook-signature").rfind("v1,", 0) == 0u);
  transport.answer_status(200);
  transport.answer_status(204);
  run();
  advance(0ms); // the subscriber's writes go out behind its results
  BOOST_TEST(must(db->count_pending("billing")) == 0u);
}

// Subscribers' results wait up to outcome_interval for a commit; events do
// not wait, and their commit takes the waiting results along.
BOOST_AUTO_TEST_CASE(results_wait_for_the_outcome_interval_and_go_with_the_next_events) {
  writes.outcome_interval = 10ms;
  wire({sub("billing")});
  publish({"order.created", "order.paid"});
  BOOST_REQUIRE_EQUAL(seen->acks.size(), 2u); // no wait for events
  transport.answer_status(200);
  run();
  advance(0ms);
  BOOST_TEST(must(db->count_pending("billing")) == 2u); // the result waits
  publish({"order.shipped"});
  BOOST_REQUIRE_EQUAL(seen->acks.size(), 3u);
  BOOST_TEST(must(db->count_pending("billing")) == 2u); // one done, one more
  transport.answer_status(200);
  transport.answer_status(200);
  run();
  advance(9ms);
  BOOST_TEST(must(db->count_pending("billing")) == 2u);
  advance(1ms);
  BOOST_TEST(must(db->count_pending("billing")) == 0u);
}

BOOST_AUTO_TEST_CASE(retries_wait_for_their_backoff_in_virtual_time) {
  wire({sub("billing")});
  publish({"order.created"});
  transport.answer_status(503);
  run();
  BOOST_TEST(transport.open() == 0u);
  auto stored = must(db->read_pending("billing", 0, 10));
  BOOST_REQUIRE_EQUAL(stored.size(), 1u);
  BOOST_TEST(stored[0].delivery.attempts == 1u);
  BOOST_TEST(stored[0].delivery.next_attempt_ms == start_ms + 1000);
  advance(999ms);
  BOOST_TEST(transport.open() == 0u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(transport.open(), 1u);
  transport.answer_status(500);
  run();
  advance(1999ms); // the second retry waits base * 2
  BOOST_TEST(transport.open() == 0u);
  advance(1ms);
  BOOST_TEST(transport.open() == 1u);
  BOOST_TEST(transport.started() == 3u);
}

BOOST_AUTO_TEST_CASE(the_breaker_opens_waits_its_cooldown_probes_and_drains_the_backlog) {
  wire({sub("billing")});
  publish({"a", "b", "c"});
  BOOST_REQUIRE_EQUAL(transport.open(), 3u);
  for (int i = 0; i < 3; ++i)
    transport.answer_status(503);
  run();
  const auto* opened = seen->last_report("billing");
  BOOST_REQUIRE(opened != nullptr); // reported at once, not at the next tick
  BOOST_TEST((opened->breaker == breaker_state::open));
  // The retries fall due after 1 s, but the breaker holds them until 5 s:
  // waiting deliveries keep their attempts.
  advance(4999ms);
  BOOST_TEST(transport.open() == 0u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(transport.open(), 1u); // one probe
  BOOST_TEST((seen->last_report("billing")->breaker == breaker_state::half_open));
  transport.answer_status(200);
  run();
  BOOST_TEST((seen->last_report("billing")->breaker == breaker_state::closed));
  BOOST_REQUIRE_EQUAL(transport.open(), 2u); // the backlog drains
  transport.answer_status(200);
  transport.answer_status(200);
  run();
  advance(0ms);
  BOOST_TEST(must(db->count_pending_total()) == 0u);
  BOOST_TEST(transport.started() == 6u);
}

BOOST_AUTO_TEST_CASE(past_the_memory_cap_deliveries_are_paged_in_from_disk) {
  auto billing = sub("billing");
  billing.max_in_flight = 1;
  wire({billing}, 2);
  publish({"e1", "e2", "e3", "e4", "e5"});
  BOOST_TEST(seen->acks.size() == 5u);
  std::vector<std::string> delivered;
  while (transport.open() > 0) {
    delivered.push_back(transport.header(0, "X-Event-Type"));
    transport.answer_status(200);
    run();
  }
  BOOST_TEST(delivered == (std::vector<std::string>{"e1", "e2", "e3", "e4", "e5"}),
             boost::test_tools::per_element());
  advance(0ms);
  BOOST_TEST(must(db->count_pending_total()) == 0u);
}

BOOST_AUTO_TEST_CASE(a_failed_page_read_is_asked_again_a_second_later) {
  db->set_read_failure(std::string{"disk on fire"});
  {
    // Pending from before this start: only a page brings it in.
    write_batch before;
    new_event ev;
    ev.event = {1, "evt_1", "order.created", start_ms, "{}"};
    delivery_record d;
    d.key = {"billing", 1};
    ev.deliveries.push_back(d);
    before.events.push_back(ev);
    db->set_read_failure(std::nullopt);
    BOOST_REQUIRE(db->commit(before).status == write_status::ok);
    db->set_read_failure(std::string{"disk on fire"});
  }
  wire({sub("billing")});
  BOOST_TEST(transport.open() == 0u);
  db->set_read_failure(std::nullopt);
  advance(999ms);
  BOOST_TEST(transport.open() == 0u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(transport.open(), 1u);
  BOOST_TEST(transport.header(0, "webhook-id") == "evt_1");
}

BOOST_AUTO_TEST_CASE(an_operators_disable_is_answered_once_on_disk) {
  wire({sub("billing")});
  control_request disable;
  disable.op = control_op::subscriber_disable;
  disable.subscriber = "billing";
  auto answer = ask(registry->find("billing"), disable);
  BOOST_TEST(answer == "{\"ok\":true,\"subscriber\":\"billing\",\"enabled\":false}\n");
  auto recorded = must(db->disabled_subscribers());
  BOOST_REQUIRE_EQUAL(recorded.size(), 1u);
  BOOST_TEST(recorded[0].reason == "disabled by operator");
  publish({"order.created"});
  BOOST_TEST(transport.open() == 0u); // kept, not sent
  control_request enable = disable;
  enable.op = control_op::subscriber_enable;
  BOOST_TEST(ask(registry->find("billing"), enable).find("\"enabled\":true") != std::string::npos);
  BOOST_TEST(must(db->disabled_subscribers()).empty());
  BOOST_TEST(transport.open() == 1u);
}

BOOST_AUTO_TEST_CASE(a_dlq_retry_hands_the_entry_back_to_its_subscriber) {
  auto billing = sub("billing");
  wire({billing});
  publish({"order.created"});
  transport.answer_status(404); // not retried: dead-lettered
  run();
  advance(0ms);
  BOOST_TEST(must(db->count_dlq()) == 1u);
  control_request retry;
  retry.op = control_op::dlq_retry;
  retry.subscriber = "billing";
  BOOST_TEST(ask(persistence, retry) == "{\"ok\":true,\"count\":1}\n");
  BOOST_REQUIRE_EQUAL(transport.open(), 1u);
  transport.answer_status(200);
  run();
  advance(0ms);
  BOOST_TEST(must(db->count_pending_total()) == 0u);
  BOOST_TEST(must(db->count_dlq()) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
