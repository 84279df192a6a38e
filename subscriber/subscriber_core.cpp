#include "subscriber/subscriber_core.hpp"

#include "logging/logger.hpp"
#include "protocol/fields.hpp"
#include "time/timestamp.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

namespace volley {

namespace {

// Settings that are allowed but leave the endpoint exposed: said at start
// and on every reload, once each.
void warn_if_insecure(const subscriber_config& cfg) {
  if (cfg.tls_insecure)
    log_warn("subscriber=" + cfg.name + " tls_insecure=true: TLS certificates are NOT verified");
  if (cfg.secrets.empty())
    log_warn("subscriber=" + cfg.name +
             " secret=none: its deliveries are NOT signed, so its receiver cannot tell them from forged "
             "ones; set its \"secret\" in the config (whsec_ and a random base64 key)");
}

} // namespace

std::string how_to_enable(const std::string& subscriber) {
  return "re-enable with: volley subscriber enable --subscriber " + subscriber +
         " (or the op {\"op\":\"subscriber.enable\",\"subscriber\":\"" + subscriber + "\"})";
}

subscriber_core::subscriber_core(subscriber_config cfg, uint32_t memory_limit, uint64_t slow_ms,
                                 uint64_t seed, bool single_store, std::shared_ptr<memory_budget> budget)
  : cfg_(std::move(cfg)), queue_(memory_limit, single_store, std::move(budget)), policy_(cfg_),
    enable_(cfg_.name, cfg_.enabled), signer_(cfg_), tally_(cfg_.name, slow_ms, cfg_.timeout_ms), rng_(seed) {
  warn_if_insecure(cfg_);
}

void subscriber_core::restore_disabled(const std::string& reason, int64_t since_ms) {
  enable_.restore(reason);
  log_warn("subscriber=" + cfg_.name + " disabled (recorded " +
           (since_ms > 0 ? format_rfc3339_ms(since_ms) : std::string{"at an unknown time"}) +
           " before this start: " + reason + "); its deliveries stay queued; " + how_to_enable(cfg_.name));
  report_due_ = true;
}

void subscriber_core::committed(std::vector<delivery>&& batch, int64_t now_ms) {
  for (auto& d : batch)
    queue_.offer(std::move(d), now_ms);
}

void subscriber_core::requeued(std::vector<delivery>&& batch, int64_t now_ms) {
  for (auto& d : batch)
    queue_.put(std::move(d), now_ms);
}

void subscriber_core::paged(std::vector<delivery>&& page, bool complete, int64_t now_ms) {
  queue_.take_page(std::move(page), complete, now_ms);
}

void subscriber_core::page_failed(const std::string& error, int64_t now_ms) {
  log_error("storage: cannot page in deliveries of subscriber=" + cfg_.name + ": " + error +
            "; retrying in 1 s");
  queue_.page_failed(now_ms);
}

void subscriber_core::log_breaker(breaker_change change, const std::string& last_error) const {
  if (change == breaker_change::closed) {
    log_info("subscriber=" + cfg_.name + " breaker=closed (endpoint recovered)");
  } else if (change == breaker_change::opened) {
    const auto& b = policy_.breaker();
    fields f;
    f.text("subscriber", cfg_.name)
      .text("breaker", "open")
      .integer("consecutive_failures", b.consecutive_failures())
      .integer("cooldown_ms", static_cast<int64_t>(b.cooldown_ms()))
      .text("last_error", last_error);
    log_warn(f.logfmt());
  }
}

void subscriber_core::attempt_done(delivery&& d, attempt_result&& r, int64_t now_ms) {
  queue_.attempt_ended(d);
  if (!r.no_socket) // nothing was sent (see attempt_result)
    d.record.attempts += 1;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto decision = policy_.decide(d.record, r, now_ms, unit(rng_));
  tally_.attempt(d, r, decision.result, now_ms);
  log_breaker(decision.breaker, decision.result.reason);
  if (decision.breaker != breaker_change::none)
    report_due_ = true;
  if (decision.limit)
    limit_cause_ = to_string(decision.limit->cause); // the monitor logs it, once per interval
  if (decision.disable_reason && enable_.enabled()) {
    log_warn("subscriber=" + cfg_.name + " disabled: " + *decision.disable_reason +
             "; deliveries stay queued until it is re-enabled, also across restarts; " +
             how_to_enable(cfg_.name));
    apply_enable_change(enable_.gone(now_ms, *decision.disable_reason));
  }
  using action = attempt_decision::action;
  if (log_attempts_) {
    logged_attempt entry;
    entry.event_id = d.payload->id;
    entry.subscriber = cfg_.name;
    entry.at_ms = now_ms;
    entry.attempt = d.record.attempts;
    entry.status = r.status;
    entry.latency_ms = r.latency_ms;
    if (decision.what != action::finish)
      entry.error = decision.result.reason;
    entry.outcome = decision.what == action::finish        ? attempt_outcome::delivered
                    : decision.what == action::dead_letter ? attempt_outcome::dead_lettered
                    : decision.what == action::disable     ? attempt_outcome::disabled
                                                           : attempt_outcome::retrying;
    writes_.logged_attempts.push_back(std::move(entry));
  }
  // Its partition moved away meanwhile: the new owner decides its fate.
  if (!queue_.owns(d.record.key.event_seq))
    return;
  switch (decision.what) {
    case action::finish:
      writes_.finished.push_back(std::move(d.record.key));
      break;
    case action::retry:
      d.record.next_attempt_ms = decision.retry_at_ms;
      writes_.updates.push_back(d.record);
      queue_.retry_at(std::move(d), decision.retry_at_ms);
      break;
    case action::dead_letter:
      dead_letter(std::move(d), r, decision.reason, now_ms);
      break;
    case action::disable:
      // Gone for good: stop calling it, keep its deliveries queued until an
      // operator re-enables it, restarts included.
      if (enable_.enabled())
        log_warn("subscriber=" + cfg_.name + " disabled: " + enable_state::gone_reason +
                 "; deliveries stay queued until it is re-enabled, also across restarts; " +
                 how_to_enable(cfg_.name));
      apply_enable_change(enable_.gone(now_ms));
      writes_.updates.push_back(d.record);
      queue_.put(std::move(d), now_ms);
      break;
  }
}

void subscriber_core::dead_letter(delivery&& d, const attempt_result& r, const std::string& reason,
                                  int64_t now_ms) {
  dlq_record e;
  e.key = std::move(d.record.key);
  e.event_id = d.payload->id;
  e.type = d.payload->type;
  e.body = *d.payload->body;
  e.priority = d.record.priority;
  e.attempts = d.record.attempts;
  e.last_status = r.status;
  e.last_error = reason;
  e.created_ms = d.record.created_ms;
  e.failed_ms = now_ms;
  if (log_enabled(log_level::debug)) {
    fields f;
    f.text("subscriber", cfg_.name).text("dead_lettered", e.event_id).text("reason", reason);
    log_debug(f.logfmt());
  }
  tally_.dead_lettered(e.type);
  writes_.dead_lettered.push_back(std::move(e));
}

void subscriber_core::apply_enable_change(const enable_change& c) {
  if (c.record)
    writes_.status_changes.push_back(*c.record);
  if (c.changed)
    report_due_ = true;
}

bool subscriber_core::timer_fired(uint64_t generation, int64_t now_ms) {
  if (generation != timer_generation_)
    return false;
  armed_ms_ = std::numeric_limits<int64_t>::max();
  admission_wait_ms_ = 0;
  queue_.promote_due(now_ms);
  return true;
}

void subscriber_core::reconfigure(subscriber_config next, int64_t now_ms) {
  auto change = enable_.by_reload(cfg_.enabled, next.enabled, now_ms);
  if (change.changed)
    log_info("subscriber=" + next.name + (next.enabled ? " enabled" : " disabled") + " by reload");
  apply_enable_change(change);
  policy_.reconfigure(next);
  signer_ = webhook_signer{next};
  tally_.set_timeout_ms(next.timeout_ms);
  warn_if_insecure(next);
  cfg_ = std::move(next);
}

bool subscriber_core::operator_enable(bool on, int64_t now_ms) {
  auto change = enable_.by_operator(on, now_ms);
  if (change.changed)
    log_info("subscriber=" + cfg_.name + (on ? " enabled" : " disabled") + " by operator");
  apply_enable_change(change);
  return enable_.enabled();
}

std::vector<outgoing_attempt> subscriber_core::start_requests(int64_t now_ms, size_t room) {
  std::vector<outgoing_attempt> out;
  out_of_room_ = false;
  room_wanted_ = 0;
  if (!enable_.enabled() || draining_)
    return out;
  queue_.promote_due(now_ms);
  while (queue_.has_ready()) {
    if (out.size() >= room) {
      out_of_room_ = true;
      auto ready = queue_.ready_by_priority();
      auto waiting = std::accumulate(ready.begin(), ready.end(), size_t{0});
      auto limit = size_t{policy_.limit().limit()};
      auto headroom = limit > queue_.in_flight() ? limit - queue_.in_flight() : 0;
      room_wanted_ = std::max<size_t>(1, std::min(waiting, headroom));
      break;
    }
    auto a = policy_.admit(queue_.in_flight(), now_ms);
    if (a.what == admission::answer::wait)
      admission_wait_ms_ = a.until_ms;
    if (a.what != admission::answer::go)
      break;
    if (a.probe)
      report_due_ = true; // the monitor logs breaker_half_open
    auto d = queue_.start_next();
    auto req = signer_.request_for(*d.payload, now_ms);
    out.push_back({std::move(d), std::move(req)});
  }
  return out;
}

std::optional<timer_request> subscriber_core::timer_to_arm() {
  auto due = std::numeric_limits<int64_t>::max();
  if (auto next = queue_.next_due())
    due = std::min(due, *next);
  if (queue_.page_retry_at_ms() > 0)
    due = std::min(due, queue_.page_retry_at_ms());
  if (admission_wait_ms_ > 0 && enable_.enabled())
    due = std::min(due, admission_wait_ms_);
  if (due >= armed_ms_)
    return std::nullopt;
  armed_ms_ = due;
  return timer_request{due, ++timer_generation_};
}

std::optional<page_request> subscriber_core::page_to_read(int64_t now_ms) { return queue_.want_page(now_ms); }

write_batch subscriber_core::take_writes() { return std::exchange(writes_, write_batch{}); }

subscriber_report subscriber_core::report() {
  report_due_ = false;
  subscriber_report r;
  tally_.fill(r);
  r.queued = queue_.in_memory() - queue_.in_flight();
  r.ready_by_priority = queue_.ready_by_priority();
  r.waiting_retry = queue_.waiting();
  r.backlog_on_disk = queue_.backlog_on_disk();
  r.in_flight = queue_.in_flight();
  r.limit = policy_.limit().limit();
  r.max_in_flight = cfg_.max_in_flight;
  r.limit_cause = limit_cause_;
  r.paused_until_ms = policy_.paused_until_ms();
  r.breaker = policy_.breaker().state();
  r.consecutive_failures = policy_.breaker().consecutive_failures();
  r.enabled = enable_.enabled();
  r.disabled_reason = enable_.reason();
  reported_ = r;
  reported_.by_type.clear();
  reported_.failures.clear();
  return r;
}

std::optional<subscriber_report> subscriber_core::report_if_changed() {
  auto before = std::move(reported_);
  auto r = report();
  if (r.counts.empty() && r.failures.empty() && same_gauges(r, before))
    return std::nullopt;
  return r;
}

http_request subscriber_core::test_request(int64_t now_ms) const {
  return signer_.request_for(test_event(cfg_.name, now_ms), now_ms);
}

} // namespace volley
