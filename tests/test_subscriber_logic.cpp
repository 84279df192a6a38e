// The subscriber's plain classes, driven step by step with time passed in:
// its queue and paging, the attempt policy's decisions, the enable rules,
// the counts for the monitor, and subscriber_core that puts them together.
#define BOOST_TEST_MODULE subscriber_logic
#include <boost/test/unit_test.hpp>

#include "subscriber/attempt_policy.hpp"
#include "subscriber/attempt_tally.hpp"
#include "subscriber/delivery_queue.hpp"
#include "subscriber/enable_state.hpp"
#include "subscriber/subscriber_core.hpp"

#include <string>
#include <vector>

using namespace volley;

namespace {

constexpr int64_t t0 = 1700000000000;

delivery make(uint64_t seq, uint8_t priority = 0, int64_t due_ms = 0, std::string sub = "billing") {
  auto p = std::make_shared<event_payload>();
  p->seq = seq;
  p->id = "evt_" + std::to_string(seq);
  p->type = "order.created";
  p->created_ms = t0;
  p->body = std::make_shared<const std::string>("{\"n\":" + std::to_string(seq) + "}");
  delivery d;
  d.record.key = {std::move(sub), seq};
  d.record.priority = priority;
  d.record.next_attempt_ms = due_ms;
  d.record.created_ms = t0;
  d.payload = std::move(p);
  return d;
}

std::vector<delivery> make_range(uint64_t from, uint64_t to) {
  std::vector<delivery> out;
  for (auto seq = from; seq <= to; ++seq)
    out.push_back(make(seq));
  return out;
}

attempt_result answered(int status, std::string retry_after = "") {
  attempt_result r;
  r.status = status;
  r.retry_after = std::move(retry_after);
  r.latency_ms = 3;
  return r;
}

attempt_result timed_out() {
  attempt_result r;
  r.timed_out = true;
  r.error = "timeout";
  return r;
}

// What the engine answers when the SSRF guard refuses the resolved address.
attempt_result refused_by_guard() {
  attempt_result r;
  r.address_refused = true;
  r.error =
    "refused to connect to 127.0.0.1: private or loopback address (set allow_private_networks to allow)";
  return r;
}

subscriber_config sub_cfg() {
  subscriber_config c;
  c.name = "billing";
  c.url = "http://127.0.0.1:9/hooks";
  c.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  c.max_attempts = 3;
  c.max_in_flight = 2;
  c.backoff.base_ms = 100;
  c.backoff.max_ms = 10000;
  c.backoff.jitter = 0;
  c.breaker.failure_threshold = 2;
  c.breaker.cooldown_ms = 1000;
  c.breaker.max_cooldown_ms = 4000;
  return c;
}

// The first page came back empty: nothing was on disk.
void nothing_on_disk(delivery_queue& q) {
  BOOST_REQUIRE(q.want_page(t0));
  q.take_page({}, true, t0);
}

std::vector<uint64_t> seqs_started(delivery_queue& q) {
  std::vector<uint64_t> out;
  while (q.has_ready())
    out.push_back(q.start_next().record.key.event_seq);
  return out;
}

} // namespace

// ============================================================================
BOOST_AUTO_TEST_SUITE(queue)

BOOST_AUTO_TEST_CASE(higher_priority_first_then_commit_order) {
  delivery_queue q{100};
  nothing_on_disk(q);
  q.offer(make(1, 0), t0);
  q.offer(make(2, 3), t0);
  q.offer(make(3, 0), t0);
  q.offer(make(4, 3), t0);
  std::vector<delivery> started;
  while (q.has_ready())
    started.push_back(q.start_next());
  std::vector<uint64_t> seqs;
  for (const auto& d : started)
    seqs.push_back(d.record.key.event_seq);
  BOOST_TEST(seqs == (std::vector<uint64_t>{2, 4, 1, 3}), boost::test_tools::per_element());
  BOOST_TEST(q.in_flight() == 4u);
  q.attempt_ended(started[0]);
  BOOST_TEST(q.in_flight() == 3u);
}

BOOST_AUTO_TEST_CASE(a_delivery_with_a_future_due_time_waits) {
  delivery_queue q{100};
  nothing_on_disk(q);
  q.offer(make(1, 0, t0 + 500), t0);
  BOOST_TEST(!q.has_ready());
  BOOST_TEST(*q.next_due() == t0 + 500);
  q.promote_due(t0 + 499);
  BOOST_TEST(!q.has_ready());
  q.promote_due(t0 + 500);
  BOOST_TEST(q.has_ready());
  BOOST_TEST(!q.next_due());
}

BOOST_AUTO_TEST_CASE(at_start_everything_is_on_disk_and_the_first_page_is_asked_for) {
  delivery_queue q{10};
  BOOST_TEST(q.backlog_on_disk());
  BOOST_TEST(!q.offer(make(7), t0)); // committed before the first page: disk only
  auto p = q.want_page(t0);
  BOOST_REQUIRE(p);
  BOOST_TEST(p->after_seq == 0u);
  BOOST_TEST(p->limit == 10u);
  BOOST_TEST(!q.want_page(t0)); // one request at a time
  q.take_page(make_range(1, 7), true, t0);
  BOOST_TEST(!q.backlog_on_disk());
  BOOST_TEST(q.watermark() == 7u);
  BOOST_TEST(q.in_memory() == 7u);
}

BOOST_AUTO_TEST_CASE(past_the_cap_deliveries_stay_on_disk_until_memory_drains) {
  delivery_queue q{4};
  nothing_on_disk(q);
  for (uint64_t seq = 1; seq <= 6; ++seq)
    q.offer(make(seq), t0);
  BOOST_TEST(q.in_memory() == 4u);
  BOOST_TEST(q.backlog_on_disk());
  BOOST_TEST(q.watermark() == 4u);
  BOOST_TEST(!q.want_page(t0)); // memory is still more than half full
  for (int i = 0; i < 3; ++i)
    q.attempt_ended(q.start_next());
  auto p = q.want_page(t0);
  BOOST_REQUIRE(p);
  BOOST_TEST(p->after_seq == 4u);
  BOOST_TEST(p->limit == 3u);
  // A later commit arrives while the page is being read: it stays on disk.
  BOOST_TEST(!q.offer(make(7), t0));
  q.take_page(make_range(5, 7), true, t0);
  BOOST_TEST(q.watermark() == 7u);
  BOOST_TEST(!q.backlog_on_disk());
  BOOST_TEST(seqs_started(q) == (std::vector<uint64_t>{4, 5, 6, 7}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_page_skips_what_memory_already_holds) {
  delivery_queue q{8};
  BOOST_REQUIRE(q.want_page(t0));
  q.take_page(make_range(1, 2), false, t0);
  BOOST_REQUIRE(q.want_page(t0));
  q.take_page(make_range(1, 3), true, t0);
  BOOST_TEST(q.in_memory() == 3u);
}

BOOST_AUTO_TEST_CASE(a_failed_page_is_asked_for_again_after_a_pause) {
  delivery_queue q{10};
  BOOST_REQUIRE(q.want_page(t0));
  q.page_failed(t0);
  BOOST_TEST(q.page_retry_at_ms() == t0 + delivery_queue::page_retry_ms);
  BOOST_TEST(!q.want_page(t0 + delivery_queue::page_retry_ms - 1));
  BOOST_TEST(q.want_page(t0 + delivery_queue::page_retry_ms).has_value());
}

BOOST_AUTO_TEST_CASE(requeued_deliveries_are_taken_whatever_the_cap) {
  delivery_queue q{1};
  nothing_on_disk(q);
  q.offer(make(5), t0);
  q.put(make(2), t0);
  BOOST_TEST(q.in_memory() == 2u);
  BOOST_TEST(q.watermark() == 5u); // requeued ones are outside the paging order
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// The node's byte budget over the subscribers' queues (queue.memory_mb).
BOOST_AUTO_TEST_SUITE(memory)

namespace {

delivery make_sized(uint64_t seq, size_t body_bytes, std::string sub = "billing") {
  auto d = make(seq, 0, 0, std::move(sub));
  auto p = std::make_shared<event_payload>();
  p->seq = seq;
  p->id = d.payload->id;
  p->type = d.payload->type;
  p->body = std::make_shared<const std::string>(body_bytes, 'x');
  d.payload = std::move(p);
  return d;
}

// What one delivery of `body_bytes` costs the queue that holds it.
uint64_t cost(size_t body_bytes) {
  return payload_bytes(*make_sized(1, body_bytes).payload) + delivery_queue::delivery_overhead;
}

// Offers seq from.. until the queue keeps one on disk; returns the last seq kept.
uint64_t fill(delivery_queue& q, uint64_t from, size_t body_bytes, std::string sub = "billing") {
  for (auto seq = from;; ++seq)
    if (!q.offer(make_sized(seq, body_bytes, sub), t0))
      return seq - 1;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_budget_guarantees_a_quarter_split_over_the_queues_and_lends_the_rest) {
  memory_budget b{1000};
  BOOST_TEST(b.room_for(0) == 750u); // one queue's share is 250; the lent part is 750
  b.join();
  b.join();
  BOOST_TEST(b.room_for(0) == 750u);
  b.charge(750);
  BOOST_TEST(b.room_for(0) == 125u); // the lent part is gone; a quarter over two queues is left
  BOOST_TEST(b.room_for(100) == 25u);
  BOOST_TEST(b.room_for(125) == 0u);
  b.release(750);
  BOOST_TEST(b.used() == 0u);
  memory_budget none{0};
  BOOST_TEST(none.room_for(1u << 30) == memory_budget::unlimited);
  BOOST_TEST(none.limit_or_zero() == 0u);
}

BOOST_AUTO_TEST_CASE(past_the_budget_deliveries_stay_on_disk_and_page_back_as_bytes_free) {
  const size_t body = 10000;
  auto budget = std::make_shared<memory_budget>(100 * cost(body));
  delivery_queue q{100000, true, budget};
  nothing_on_disk(q);
  auto last = fill(q, 1, body);
  // Alone, the queue takes the lent three quarters (and at most one more).
  BOOST_TEST(budget->used() >= 75 * cost(body));
  BOOST_TEST(budget->used() <= 76 * cost(body));
  BOOST_TEST(q.bytes_in_memory() == budget->used());
  BOOST_TEST(q.backlog_on_disk());
  BOOST_TEST(!q.want_page(t0)); // no room worth a read

  // Forty attempts end (delivered): their bytes come back.
  for (int i = 0; i < 40; ++i)
    q.attempt_ended(q.start_next());
  BOOST_TEST(budget->used() == q.bytes_in_memory());
  auto p = q.want_page(t0);
  BOOST_REQUIRE(p);
  BOOST_TEST(p->after_seq == last);
  BOOST_TEST(p->max_bytes == budget->room_for(q.bytes_in_memory()));
  BOOST_TEST(p->max_bytes >= 39 * cost(body));
}

BOOST_AUTO_TEST_CASE(a_queue_that_fills_the_budget_does_not_starve_the_others) {
  const size_t body = 10000;
  auto budget = std::make_shared<memory_budget>(100 * cost(body));
  delivery_queue busy{100000, true, budget}, quiet{100000, true, budget};
  nothing_on_disk(busy);
  nothing_on_disk(quiet);
  fill(busy, 1, body);
  BOOST_TEST(busy.backlog_on_disk());
  // The quiet one still has its guaranteed share: a quarter over two queues.
  fill(quiet, 1, body, "audit");
  BOOST_TEST(quiet.in_memory() >= 12u);
  BOOST_TEST(quiet.in_memory() <= 13u);
  // Together no more than the budget and one delivery each.
  BOOST_TEST(budget->used() <= 102 * cost(body));
}

BOOST_AUTO_TEST_CASE(a_payload_shared_by_two_queues_is_charged_once) {
  auto budget = std::make_shared<memory_budget>(1u << 20);
  {
    delivery_queue a{100, true, budget}, b{100, true, budget};
    nothing_on_disk(a);
    nothing_on_disk(b);
    auto d = make_sized(1, 5000);
    auto other = d;
    other.record.key.subscriber = "audit";
    auto bytes = payload_bytes(*d.payload);
    a.offer(std::move(d), t0);
    b.offer(std::move(other), t0);
    BOOST_TEST(budget->used() == bytes + 2 * delivery_queue::delivery_overhead);
    BOOST_TEST(a.bytes_in_memory() == bytes + delivery_queue::delivery_overhead);
    // One attempt ended and delivered: the payload stays for the other queue.
    a.attempt_ended(a.start_next());
    BOOST_TEST(budget->used() == bytes + delivery_queue::delivery_overhead);
  }
  BOOST_TEST(budget->used() == 0u); // queues gone, the payload with them
}

BOOST_AUTO_TEST_CASE(an_empty_queue_takes_one_delivery_however_large) {
  auto budget = std::make_shared<memory_budget>(1000);
  delivery_queue q{100, true, budget};
  auto p = q.want_page(t0);
  BOOST_REQUIRE(p);
  BOOST_TEST(p->max_bytes == budget->room_for(0));
  q.take_page({}, true, t0);
  BOOST_TEST(q.offer(make_sized(1, 50000), t0));
  BOOST_TEST(!q.offer(make_sized(2, 10), t0));
  // Retries and requeues come back whatever the budget: they were held before.
  auto d = q.start_next();
  q.attempt_ended(d);
  q.retry_at(std::move(d), t0 + 1000);
  BOOST_TEST(q.in_memory() == 1u);
  BOOST_TEST(budget->used() == q.bytes_in_memory());
}

BOOST_AUTO_TEST_CASE(a_dropped_source_gives_its_bytes_back) {
  auto budget = std::make_shared<memory_budget>(1u << 20);
  delivery_queue q{100, false, budget};
  q.adopt_source(1);
  BOOST_REQUIRE(q.want_page(t0));
  auto seq = delivery_queue::source_start(1) + 1;
  std::vector<delivery> page;
  page.push_back(make_sized(seq, 1000));
  q.take_page(std::move(page), true, t0);
  BOOST_TEST(budget->used() > 0u);
  q.drop_source(1);
  BOOST_TEST(q.in_memory() == 0u);
  BOOST_TEST(q.bytes_in_memory() == 0u);
  BOOST_TEST(budget->used() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(outcomes_become_decisions) {
  attempt_policy p{sub_cfg()};
  auto rec = make(1).record;
  rec.attempts = 1;
  using action = attempt_decision::action;
  BOOST_TEST((p.decide(rec, answered(200), t0, 0.5).what == action::finish));
  BOOST_TEST((p.decide(rec, answered(404), t0, 0.5).what == action::dead_letter));
  BOOST_TEST(p.decide(rec, answered(404), t0, 0.5).reason == "HTTP 404");
  BOOST_TEST((p.decide(rec, answered(410), t0, 0.5).what == action::disable));
  auto retry = p.decide(rec, answered(503), t0, 0.5);
  BOOST_TEST((retry.what == action::retry));
  BOOST_TEST(retry.retry_at_ms == t0 + 100); // base * 2^0, no jitter
}

BOOST_AUTO_TEST_CASE(backoff_grows_and_attempts_run_out) {
  attempt_policy p{sub_cfg()};
  auto rec = make(1).record;
  rec.attempts = 2;
  BOOST_TEST(p.decide(rec, timed_out(), t0, 0.5).retry_at_ms == t0 + 200);
  rec.attempts = 3; // max_attempts
  auto last = p.decide(rec, answered(500), t0, 0.5);
  BOOST_TEST((last.what == attempt_decision::action::dead_letter));
  BOOST_TEST(last.reason == "attempts exhausted, last: HTTP 500");
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_and_clamped) {
  attempt_policy p{sub_cfg()};
  auto rec = make(1).record;
  rec.attempts = 1;
  BOOST_TEST(p.decide(rec, answered(429, "3"), t0, 0.5).retry_at_ms == t0 + 3000);
  BOOST_TEST(p.decide(rec, answered(503, "99999"), t0, 0.5).retry_at_ms == t0 + 10000);
}

BOOST_AUTO_TEST_CASE(the_breaker_transition_is_part_of_the_decision) {
  attempt_policy p{sub_cfg()};
  auto rec = make(1).record;
  rec.attempts = 1;
  BOOST_TEST((p.admit(0, t0).what == admission::answer::go));
  BOOST_TEST((p.decide(rec, answered(503), t0, 0.5).breaker == breaker_change::none));
  BOOST_TEST((p.decide(rec, answered(503), t0, 0.5).breaker == breaker_change::opened));
  auto closed = p.admit(0, t0 + 10);
  BOOST_TEST((closed.what == admission::answer::wait));
  BOOST_TEST(closed.until_ms == t0 + 1000);
  auto probe = p.admit(0, t0 + 1000);
  BOOST_TEST((probe.what == admission::answer::go));
  BOOST_TEST(probe.probe);
  BOOST_TEST((p.admit(1, t0 + 1000).what == admission::answer::hold)); // one probe only
  BOOST_TEST((p.decide(rec, answered(200), t0 + 1001, 0.5).breaker == breaker_change::closed));
  BOOST_TEST(!p.admit(0, t0 + 1002).probe);
}

// A refused address is a configuration error: retrying cannot help, and the
// endpoint was never reached, so the breaker does not count it.
BOOST_AUTO_TEST_CASE(an_address_the_guard_refuses_is_dead_lettered_at_once_with_the_full_reason) {
  attempt_policy p{sub_cfg()};
  auto rec = make(1).record;
  rec.attempts = 1; // of max_attempts 3
  for (int i = 0; i < 3; ++i) {
    auto d = p.decide(rec, refused_by_guard(), t0, 0.5);
    BOOST_TEST((d.what == attempt_decision::action::dead_letter));
    BOOST_TEST(d.reason == refused_by_guard().error);
    BOOST_TEST((d.breaker == breaker_change::none));
  }
  BOOST_TEST((p.breaker().state() == breaker_state::closed));
  BOOST_TEST(p.breaker().consecutive_failures() == 0u);
  // As the half-open probe's answer it ends the probe (else no request
  // would ever start again): open again, as for any failed probe.
  p.decide(rec, answered(503), t0, 0.5);
  p.decide(rec, answered(503), t0, 0.5); // failure_threshold 2: open
  BOOST_REQUIRE(p.admit(0, t0 + 1000).probe);
  BOOST_TEST((p.decide(rec, refused_by_guard(), t0 + 1001, 0.5).breaker == breaker_change::opened));
  BOOST_TEST((p.admit(0, t0 + 1002).what == admission::answer::wait));
}

BOOST_AUTO_TEST_CASE(admission_respects_the_in_flight_cap_and_the_rate_limit) {
  auto cfg = sub_cfg();
  cfg.rate_limit_per_s = 1;
  attempt_policy p{cfg};
  BOOST_TEST((p.admit(2, t0).what == admission::answer::hold));
  BOOST_TEST((p.admit(0, t0).what == admission::answer::go));
  auto later = p.admit(1, t0);
  BOOST_TEST((later.what == admission::answer::wait));
  BOOST_TEST(later.until_ms == t0 + 1000);
}

BOOST_AUTO_TEST_CASE(a_reload_keeps_the_breaker_unless_its_settings_change) {
  attempt_policy p{sub_cfg()};
  auto rec = make(1).record;
  rec.attempts = 1;
  p.decide(rec, answered(503), t0, 0.5);
  p.decide(rec, answered(503), t0, 0.5);
  BOOST_TEST((p.breaker().state() == breaker_state::open));
  auto same = sub_cfg();
  same.url = "http://127.0.0.1:10/elsewhere";
  p.reconfigure(same);
  BOOST_TEST((p.breaker().state() == breaker_state::open));
  auto other = same;
  other.breaker.failure_threshold = 9;
  p.reconfigure(other);
  BOOST_TEST((p.breaker().state() == breaker_state::closed));
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(enable_rules)

// What each step leaves behind.
struct after {
  bool enabled;
  bool recorded;
  std::string reason;
};

void check(const enable_state& s, const after& want) {
  BOOST_TEST(s.enabled() == want.enabled);
  BOOST_TEST(s.recorded() == want.recorded);
  BOOST_TEST(s.reason() == want.reason);
}

const std::string gone = enable_state::gone_reason;
const std::string by_operator = enable_state::operator_reason;
const std::string in_file = enable_state::config_reason;

BOOST_AUTO_TEST_CASE(the_file_decides_at_start_and_is_never_recorded) {
  check(enable_state{"s", true}, {true, false, ""});
  check(enable_state{"s", false}, {false, false, in_file});
}

BOOST_AUTO_TEST_CASE(a_410_disables_on_record) {
  enable_state s{"s", true};
  auto c = s.gone(t0);
  BOOST_TEST(c.changed);
  BOOST_REQUIRE(c.record);
  BOOST_TEST(c.record->disabled);
  BOOST_TEST(c.record->reason == gone);
  BOOST_TEST(c.record->since_ms == t0);
  check(s, {false, true, gone});
  auto again = s.gone(t0 + 1); // a second 410 from a request in flight
  BOOST_TEST(!again.changed);
  BOOST_TEST(!again.record);
}

BOOST_AUTO_TEST_CASE(a_410_keeps_an_operators_earlier_reason) {
  enable_state s{"s", true};
  s.by_operator(false, t0);
  auto c = s.gone(t0 + 1);
  BOOST_TEST(!c.changed);
  BOOST_TEST(!c.record);
  check(s, {false, true, by_operator});
}

BOOST_AUTO_TEST_CASE(a_410_while_the_file_disables_it_is_recorded) {
  enable_state s{"s", false};
  auto c = s.gone(t0); // a request already in flight when the reload disabled it
  BOOST_TEST(!c.changed);
  BOOST_REQUIRE(c.record);
  check(s, {false, true, gone});
}

BOOST_AUTO_TEST_CASE(an_operators_disable_is_recorded_and_keeps_a_410s_reason) {
  enable_state s{"s", true};
  auto c = s.by_operator(false, t0);
  BOOST_TEST(c.changed);
  BOOST_REQUIRE(c.record);
  BOOST_TEST(c.record->reason == by_operator);
  check(s, {false, true, by_operator});

  enable_state after_410{"s", true};
  after_410.gone(t0);
  auto again = after_410.by_operator(false, t0 + 1);
  BOOST_TEST(!again.changed);
  BOOST_TEST(!again.record);
  check(after_410, {false, true, gone});
}

BOOST_AUTO_TEST_CASE(an_operators_enable_always_deletes_the_record) {
  for (bool file : {true, false}) {
    enable_state s{"s", file};
    s.gone(t0);
    auto c = s.by_operator(true, t0 + 1);
    BOOST_TEST(c.changed);
    BOOST_REQUIRE(c.record);
    BOOST_TEST(!c.record->disabled);
    check(s, {true, false, ""});
    auto idle = s.by_operator(true, t0 + 2); // enabled already: still deletes
    BOOST_TEST(!idle.changed);
    BOOST_REQUIRE(idle.record);
    BOOST_TEST(!idle.record->disabled);
  }
}

BOOST_AUTO_TEST_CASE(a_restored_disable_holds_until_enabled) {
  enable_state s{"s", true};
  s.restore("endpoint answered 410 Gone");
  check(s, {false, true, gone});
  BOOST_TEST(!s.by_reload(true, true, t0).record); // the file did not change
  check(s, {false, true, gone});
}

BOOST_AUTO_TEST_CASE(a_reload_that_changes_the_file_applies_it) {
  // File true -> false: disabled, nothing recorded.
  enable_state s{"s", true};
  auto off = s.by_reload(true, false, t0);
  BOOST_TEST(off.changed);
  BOOST_TEST(!off.record);
  check(s, {false, false, in_file});
  // false -> true: enabled, and a recorded disable deleted.
  enable_state r{"s", false};
  r.gone(t0);
  auto on = r.by_reload(false, true, t0 + 1);
  BOOST_TEST(on.changed);
  BOOST_REQUIRE(on.record);
  BOOST_TEST(!on.record->disabled);
  check(r, {true, false, ""});
}

BOOST_AUTO_TEST_CASE(a_reload_that_leaves_the_file_keeps_what_was_decided) {
  for (bool file : {true, false}) {
    // An operator's disable, then a reload with the same file.
    enable_state a{"s", file};
    a.by_operator(false, t0);
    BOOST_TEST(!a.by_reload(file, file, t0).changed);
    check(a, {false, true, by_operator});
    // An operator's enable of a file-disabled subscriber outlasts a reload.
    enable_state b{"s", file};
    b.by_operator(true, t0);
    BOOST_TEST(!b.by_reload(file, file, t0).changed);
    check(b, {true, false, ""});
  }
}

BOOST_AUTO_TEST_CASE(a_reload_to_false_of_a_disabled_subscriber_changes_nothing) {
  enable_state s{"s", true};
  s.gone(t0);
  auto c = s.by_reload(true, false, t0 + 1);
  BOOST_TEST(!c.changed);
  BOOST_TEST(!c.record);
  check(s, {false, true, gone}); // still recorded: enabling the file later clears it
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(tally)

BOOST_AUTO_TEST_CASE(attempts_are_counted_by_outcome_and_type) {
  attempt_tally t{"billing", 100, 10000};
  auto d = make(1);
  d.record.attempts = 2;
  t.attempt(d, answered(503), classify(answered(503)), t0);
  t.attempt(d, answered(200), classify(answered(200)), t0 + 1);
  auto slow = answered(200);
  slow.latency_ms = 500;
  t.attempt(d, slow, classify(slow), t0 + 2);
  t.attempt(d, timed_out(), classify(timed_out()), t0 + 3);
  t.dead_lettered("order.created");
  subscriber_report r;
  t.fill(r);
  BOOST_TEST(r.name == "billing");
  BOOST_TEST(r.counts.attempts == 4u);
  BOOST_TEST(r.counts.successes == 2u);
  BOOST_TEST(r.counts.delivered == 2u);
  BOOST_TEST(r.counts.delivered_attempts == 4u);
  BOOST_TEST(r.counts.dead_lettered == 1u);
  BOOST_TEST(r.counts.slow == 2u); // the 500 ms answer and the timeout
  BOOST_TEST(r.counts.outcomes["503"] == 1u);
  BOOST_TEST(r.counts.outcomes["timeout"] == 1u);
  BOOST_TEST(r.by_type["order.created"].attempts == 4u);
  BOOST_REQUIRE_EQUAL(r.failures.size(), 2u);
  BOOST_TEST(r.failures[1].error == "timeout");
  BOOST_TEST(r.last_success_ms == t0 + 2);
  BOOST_TEST(r.last_failure_ms == t0 + 3);
  // The next report starts from zero but remembers when things last happened.
  subscriber_report next;
  t.fill(next);
  BOOST_TEST(next.counts.attempts == 0u);
  BOOST_TEST(next.failures.empty());
  BOOST_TEST(next.last_success_ms == t0 + 2);
  BOOST_TEST(next.last_error == "timeout");
}

// An endpoint that never answers showed p50_ms=0 p99_ms=0 slow=0: a timeout
// is an attempt that took (at least) its timeout.
BOOST_AUTO_TEST_CASE(a_timeout_counts_at_its_timeout_and_as_slow) {
  attempt_tally t{"billing", 1000, 2500};
  auto d = make(1);
  d.record.attempts = 1;
  for (int i = 0; i < 3; ++i)
    t.attempt(d, timed_out(), classify(timed_out()), t0 + i);
  t.set_timeout_ms(5000); // a reload changed timeout_ms
  t.attempt(d, timed_out(), classify(timed_out()), t0 + 3);
  subscriber_report r;
  t.fill(r);
  BOOST_TEST(r.counts.latency.count() == 4u);
  BOOST_TEST(r.counts.latency.sum_ms() == 3 * 2500.0 + 5000.0);
  BOOST_TEST(r.counts.latency.percentile_ms(0.5) >= 2500.0);
  BOOST_TEST(r.by_type["order.created"].latency.count() == 4u);
  BOOST_TEST(r.counts.slow == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
BOOST_AUTO_TEST_SUITE(core)

// A core that has read its (empty) first page.
subscriber_core started(subscriber_config cfg = sub_cfg()) {
  subscriber_core core{std::move(cfg), 100, 1000, 42};
  auto p = core.page_to_read(t0);
  BOOST_REQUIRE(p);
  core.paged({}, true, t0);
  return core;
}

BOOST_AUTO_TEST_CASE(committed_deliveries_start_up_to_the_in_flight_cap_signed) {
  auto core = started();
  core.committed(make_range(1, 3), t0);
  auto starts = core.start_requests(t0);
  BOOST_REQUIRE_EQUAL(starts.size(), 2u); // max_in_flight
  BOOST_TEST(starts[0].request.url == "http://127.0.0.1:9/hooks");
  bool signed_request = false;
  starts[0].request.headers.each([&](const char* line) {
    signed_request = signed_request || std::string{line}.rfind("webhook-signature: v1,", 0) == 0;
  });
  BOOST_TEST(signed_request);
  BOOST_TEST(core.start_requests(t0).empty());
  core.attempt_done(std::move(starts[0].attempt), answered(200), t0 + 5);
  BOOST_TEST(core.start_requests(t0 + 5).size() == 1u);
  auto w = core.take_writes();
  BOOST_REQUIRE_EQUAL(w.finished.size(), 1u);
  BOOST_TEST(w.finished[0].event_seq == 1u);
}

BOOST_AUTO_TEST_CASE(a_failure_is_retried_when_its_timer_fires) {
  auto core = started();
  core.committed(make_range(1, 1), t0);
  auto first = core.start_requests(t0);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  core.attempt_done(std::move(first[0].attempt), answered(503), t0 + 10);
  auto w = core.take_writes();
  BOOST_REQUIRE_EQUAL(w.updates.size(), 1u);
  BOOST_TEST(w.updates[0].attempts == 1u);
  BOOST_TEST(w.updates[0].next_attempt_ms == t0 + 110);
  BOOST_TEST(core.start_requests(t0 + 10).empty());
  auto timer = core.timer_to_arm();
  BOOST_REQUIRE(timer);
  BOOST_TEST(timer->due_ms == t0 + 110);
  BOOST_TEST(!core.timer_to_arm()); // armed already
  BOOST_TEST(core.timer_fired(timer->generation, t0 + 110));
  BOOST_TEST(core.start_requests(t0 + 110).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stale_timer_tick_is_ignored) {
  auto core = started();
  core.committed({make(1, 0, t0 + 500)}, t0);
  auto late = core.timer_to_arm();
  BOOST_REQUIRE(late);
  core.committed({make(2, 0, t0 + 100)}, t0);
  auto early = core.timer_to_arm();
  BOOST_REQUIRE(early);
  BOOST_TEST(early->due_ms == t0 + 100);
  BOOST_TEST(!core.timer_fired(late->generation, t0 + 500));
  BOOST_TEST(core.timer_fired(early->generation, t0 + 100));
}

BOOST_AUTO_TEST_CASE(an_open_breaker_sends_nothing_and_waits_for_its_cooldown) {
  auto core = started();
  core.committed(make_range(1, 4), t0);
  auto starts = core.start_requests(t0);
  BOOST_REQUIRE_EQUAL(starts.size(), 2u);
  for (auto& s : starts)
    core.attempt_done(std::move(s.attempt), answered(500), t0 + 1);
  BOOST_TEST(core.report_due()); // opened: the monitor hears at once
  auto opened = core.report();
  BOOST_TEST((opened.breaker == breaker_state::open));
  BOOST_TEST(core.start_requests(t0 + 2).empty());
  auto timer = core.timer_to_arm(); // the retries (t0+101) come before the cooldown's end
  BOOST_REQUIRE(timer);
  BOOST_TEST(core.timer_fired(timer->generation, t0 + 200));
  BOOST_TEST(core.start_requests(t0 + 200).empty()); // still open
  // Waiting deliveries keep their attempts while the breaker is open.
  auto cooldown = core.timer_to_arm();
  BOOST_REQUIRE(cooldown);
  BOOST_TEST(cooldown->due_ms == t0 + 1001);
  BOOST_TEST(core.timer_fired(cooldown->generation, t0 + 1001));
  auto probe = core.start_requests(t0 + 1001);
  BOOST_REQUIRE_EQUAL(probe.size(), 1u);
  BOOST_TEST(core.report_due()); // the probe: breaker_half_open
  BOOST_TEST((core.report().breaker == breaker_state::half_open));
  core.attempt_done(std::move(probe[0].attempt), answered(200), t0 + 1002);
  BOOST_TEST((core.report().breaker == breaker_state::closed));
  BOOST_TEST(core.start_requests(t0 + 1002).size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_410_disables_keeps_the_delivery_and_records_it) {
  auto core = started();
  core.committed(make_range(1, 2), t0);
  auto starts = core.start_requests(t0);
  core.attempt_done(std::move(starts[0].attempt), answered(410), t0 + 1);
  BOOST_TEST(!core.enabled());
  auto w = core.take_writes();
  BOOST_REQUIRE_EQUAL(w.status_changes.size(), 1u);
  BOOST_TEST(w.status_changes[0].disabled);
  BOOST_REQUIRE_EQUAL(w.updates.size(), 1u);
  BOOST_TEST(w.updates[0].attempts == 1u);
  core.attempt_done(std::move(starts[1].attempt), answered(200), t0 + 2);
  BOOST_TEST(core.start_requests(t0 + 3).empty());
  auto r = core.report();
  BOOST_TEST(r.queued == 1u); // kept, not dropped
  BOOST_TEST(!r.enabled);
  BOOST_TEST(core.operator_enable(true, t0 + 4));
  BOOST_TEST(core.start_requests(t0 + 4).size() == 1u);
}

BOOST_AUTO_TEST_CASE(exhausted_attempts_go_to_the_dead_letter_queue_with_the_event) {
  auto cfg = sub_cfg();
  cfg.breaker.failure_threshold = 10; // the breaker stays out of this
  auto core = started(cfg);
  core.committed(make_range(1, 1), t0);
  int64_t now = t0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto s = core.start_requests(now);
    BOOST_REQUIRE_EQUAL(s.size(), 1u);
    core.attempt_done(std::move(s[0].attempt), answered(502), now);
    if (auto t = core.timer_to_arm()) {
      now = t->due_ms;
      core.timer_fired(t->generation, now);
    }
  }
  auto w = core.take_writes();
  BOOST_REQUIRE_EQUAL(w.dead_lettered.size(), 1u);
  BOOST_TEST(w.dead_lettered[0].attempts == 3u);
  BOOST_TEST(w.dead_lettered[0].event_id == "evt_1");
  BOOST_TEST(w.dead_lettered[0].body == "{\"n\":1}");
  BOOST_TEST(w.dead_lettered[0].last_error == "attempts exhausted, last: HTTP 502");
  BOOST_TEST(core.report().counts.dead_lettered == 1u);
}

BOOST_AUTO_TEST_CASE(a_refused_address_goes_to_the_dead_letter_queue_on_its_first_attempt) {
  auto core = started();
  core.committed(make_range(1, 1), t0);
  auto s = core.start_requests(t0);
  BOOST_REQUIRE_EQUAL(s.size(), 1u);
  core.attempt_done(std::move(s[0].attempt), refused_by_guard(), t0 + 1);
  auto w = core.take_writes();
  BOOST_TEST(w.updates.empty()); // no retry scheduled
  BOOST_REQUIRE_EQUAL(w.dead_lettered.size(), 1u);
  BOOST_TEST(w.dead_lettered[0].attempts == 1u);
  BOOST_TEST(w.dead_lettered[0].last_error == refused_by_guard().error);
  auto r = core.report();
  BOOST_REQUIRE_EQUAL(r.failures.size(), 1u); // what `volley failures` shows
  BOOST_TEST(r.failures[0].error == refused_by_guard().error);
  BOOST_TEST(r.counts.dead_lettered == 1u);
  BOOST_TEST(!core.timer_to_arm());
}

// The open-file limit of this node, not the endpoint: retried soon, no
// attempt counted, the breaker untouched (sub_cfg opens it after 2 failures
// and dead-letters after 3 attempts).
BOOST_AUTO_TEST_CASE(no_socket_here_is_retried_without_counting_an_attempt_or_opening_the_breaker) {
  attempt_result no_socket;
  no_socket.no_socket = true;
  no_socket.error = "cannot open a socket: Too many open files";
  auto core = started();
  core.committed(make_range(1, 1), t0);
  auto now = t0;
  for (int i = 0; i < 5; ++i) {
    auto s = core.start_requests(now);
    BOOST_REQUIRE_EQUAL(s.size(), 1u);
    core.attempt_done(std::move(s[0].attempt), attempt_result{no_socket}, now + 1);
    auto w = core.take_writes();
    BOOST_TEST(w.dead_lettered.empty());
    BOOST_REQUIRE_EQUAL(w.updates.size(), 1u);
    BOOST_TEST(w.updates[0].attempts == 0u);
    BOOST_TEST(w.updates[0].next_attempt_ms == now + 1 + 100); // the first backoff step, every time
    now = w.updates[0].next_attempt_ms;
    core.timer_fired(core.timer_to_arm()->generation, now);
  }
  auto r = core.report();
  BOOST_TEST((r.breaker == breaker_state::closed));
  BOOST_TEST(r.consecutive_failures == 0u);
  BOOST_TEST(r.last_error == no_socket.error); // the operator still sees why
  // The endpoint answers once files are free: delivered on its first attempt.
  auto s = core.start_requests(now);
  BOOST_REQUIRE_EQUAL(s.size(), 1u);
  BOOST_TEST(s[0].attempt.record.attempts == 0u);
}

BOOST_AUTO_TEST_CASE(a_recorded_disable_at_start_sends_nothing) {
  auto core = started();
  core.restore_disabled(enable_state::gone_reason, t0 - 1000);
  core.committed(make_range(1, 1), t0);
  BOOST_TEST(core.start_requests(t0).empty());
  BOOST_TEST(core.report().disabled_reason == enable_state::gone_reason);
}

BOOST_AUTO_TEST_CASE(draining_starts_nothing_new) {
  auto core = started();
  core.committed(make_range(1, 1), t0);
  core.drain();
  BOOST_TEST(core.start_requests(t0).empty());
}

BOOST_AUTO_TEST_CASE(a_failed_page_read_is_retried_by_timer) {
  subscriber_core core{sub_cfg(), 100, 1000, 42};
  BOOST_REQUIRE(core.page_to_read(t0));
  core.page_failed("disk on fire", t0);
  BOOST_TEST(!core.page_to_read(t0));
  auto t = core.timer_to_arm();
  BOOST_REQUIRE(t);
  BOOST_TEST(t->due_ms == t0 + delivery_queue::page_retry_ms);
  core.timer_fired(t->generation, t->due_ms);
  BOOST_TEST(core.page_to_read(t->due_ms).has_value());
}

BOOST_AUTO_TEST_CASE(no_more_requests_start_than_the_engine_has_room_for) {
  auto cfg = sub_cfg();
  cfg.max_in_flight = 10;
  cfg.concurrency.adaptive = false; // the engine's room is the only limit here
  auto core = started(cfg);
  core.committed(make_range(1, 5), t0);
  BOOST_TEST(core.start_requests(t0, 2).size() == 2u);
  BOOST_TEST(core.out_of_room()); // three still ready
  BOOST_TEST(core.room_wanted() == 3u);
  BOOST_TEST(core.start_requests(t0, 0).empty());
  BOOST_TEST(core.out_of_room());
  BOOST_TEST(core.start_requests(t0, 100).size() == 3u);
  BOOST_TEST(!core.out_of_room()); // nothing left waiting for room
  BOOST_TEST(core.room_wanted() == 0u);
}

// What a subscriber asks the engine for: its ready deliveries, but no more
// than its in-flight cap lets start.
BOOST_AUTO_TEST_CASE(room_wanted_is_what_is_ready_within_the_in_flight_cap) {
  auto cfg = sub_cfg();
  cfg.max_in_flight = 4;
  cfg.concurrency.adaptive = false;
  auto core = started(cfg);
  core.committed(make_range(1, 10), t0);
  BOOST_TEST(core.start_requests(t0, 1).size() == 1u);
  BOOST_TEST(core.out_of_room());
  BOOST_TEST(core.room_wanted() == 3u); // 9 ready, 3 more may be in flight
}

BOOST_AUTO_TEST_CASE(an_idle_subscriber_has_no_periodic_report_to_send) {
  auto core = started();
  BOOST_TEST(core.report_if_changed().has_value()); // the first one
  BOOST_TEST(!core.report_if_changed());            // nothing happened since
  core.committed(make_range(1, 1), t0);
  auto queued = core.report_if_changed(); // a gauge moved
  BOOST_REQUIRE(queued);
  BOOST_TEST(queued->queued == 1u);
  auto starts = core.start_requests(t0);
  core.attempt_done(std::move(starts[0].attempt), answered(200), t0 + 5);
  auto after = core.report_if_changed(); // an attempt ended
  BOOST_REQUIRE(after);
  BOOST_TEST(after->counts.delivered == 1u);
  BOOST_TEST(!core.report_if_changed());
  core.report(); // a state change reported at once counts as the last report
  BOOST_TEST(!core.report_if_changed());
}

BOOST_AUTO_TEST_SUITE_END()

// ============================================================================
// In cluster mode deliveries come from one store per partition: each source
// pages in its own seq order, and a partition that moves away leaves memory.
BOOST_AUTO_TEST_SUITE(sources)

uint64_t seq(uint16_t partition, uint64_t n) { return delivery_queue::source_start(partition) + n; }

BOOST_AUTO_TEST_CASE(each_source_pages_in_its_own_order) {
  delivery_queue q{6, false};
  BOOST_TEST(!q.want_page(t0));              // nothing owned yet
  BOOST_TEST(!q.offer(make(seq(1, 1)), t0)); // not ours: dropped
  q.adopt_source(1);
  q.adopt_source(2);
  auto first = q.want_page(t0);
  BOOST_REQUIRE(first);
  BOOST_TEST(first->source == 1u);
  BOOST_TEST(first->after_seq == delivery_queue::source_start(1));
  q.take_page({make(seq(1, 1)), make(seq(1, 2))}, true, t0);
  auto second = q.want_page(t0);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->source == 2u);
  q.take_page({make(seq(2, 1))}, true, t0);
  BOOST_TEST(!q.backlog_on_disk());
  // A commit of partition 2 far below partition 1's seqs is still in order
  // for its own source.
  BOOST_TEST(q.offer(make(seq(2, 2)), t0));
  BOOST_TEST(q.offer(make(seq(1, 3)), t0));
  BOOST_TEST(q.offer(make(seq(2, 3)), t0));
  BOOST_TEST(q.in_memory() == 6u);
  BOOST_TEST(!q.offer(make(seq(1, 4)), t0)); // full: partition 1 goes on disk
  BOOST_TEST(q.backlog_on_disk());
  BOOST_TEST(!q.offer(make(seq(1, 5)), t0));
}

BOOST_AUTO_TEST_CASE(a_dropped_source_leaves_memory_and_its_late_page_is_ignored) {
  delivery_queue q{10, false};
  q.adopt_source(3);
  BOOST_REQUIRE(q.want_page(t0));
  q.take_page({make(seq(3, 1)), make(seq(3, 2), 0, t0 + 100)}, false, t0);
  auto in_flight = q.start_next();
  BOOST_REQUIRE(q.want_page(t0)); // the rest of partition 3
  q.drop_source(3);
  BOOST_TEST(q.in_memory() == 1u); // only the one in flight
  BOOST_TEST(!q.owns(in_flight.record.key.event_seq));
  q.take_page({make(seq(3, 9))}, true, t0); // the answer to a page of a dropped source
  BOOST_TEST(q.in_memory() == 1u);
  q.put(make(seq(3, 1)), t0); // nor is anything of it put back
  BOOST_TEST(q.in_memory() == 1u);
  q.adopt_source(3); // back again: all of it on disk, paged from the start
  auto again = q.want_page(t0);
  BOOST_REQUIRE(again);
  BOOST_TEST(again->after_seq == delivery_queue::source_start(3));
}

BOOST_AUTO_TEST_SUITE_END()
