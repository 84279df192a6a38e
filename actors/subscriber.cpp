#include "actors/subscriber.hpp"

#include "logging/logger.hpp"
#include "protocol/fields.hpp"
#include "protocol/json_text.hpp"
#include "protocol/timestamp.hpp"
#include "signing/signature.hpp"

#include <algorithm>
#include <chrono>

namespace volley {

namespace {

constexpr auto report_interval = std::chrono::milliseconds(1000);
constexpr const char* gone_reason = "endpoint answered 410 Gone";
constexpr const char* operator_reason = "disabled by operator";
constexpr const char* config_reason = "\"enabled\": false in the config";

// How an operator turns a subscriber back on, for log lines.
std::string how_to_enable(const std::string& name) {
  return "re-enable with: volley subscriber enable --subscriber " + name +
         " (or the op {\"op\":\"subscriber.enable\",\"subscriber\":\"" + name + "\"})";
}

} // namespace

bool completion_queue::push(delivery&& d, attempt_result&& r) {
  std::lock_guard<std::mutex> guard{mutex_};
  items_.emplace_back(std::move(d), std::move(r));
  return items_.size() == 1;
}

std::vector<std::pair<delivery, attempt_result>> completion_queue::take() {
  std::vector<std::pair<delivery, attempt_result>> out;
  std::lock_guard<std::mutex> guard{mutex_};
  out.swap(items_);
  return out;
}

size_t subscriber_state::in_memory() const {
  size_t n = waiting.size() + in_flight;
  for (const auto& q : ready)
    n += q.size();
  return n;
}

void subscriber_state::accept(delivery&& d, int64_t now_ms) {
  auto due = d.record.next_attempt_ms;
  if (due > now_ms) {
    waiting.emplace(due, std::move(d));
    return;
  }
  auto prio = std::min<size_t>(d.record.priority, ready.size() - 1);
  ready[prio].push_back(std::move(d));
}

void subscriber_state::pump(caf::event_based_actor* self) {
  if (enabled && !draining) {
    auto now = unix_ms_now();
    std::vector<http_request> batch;
    while (in_flight < cfg.max_in_flight) {
      auto q = std::find_if(ready.rbegin(), ready.rend(), [](const auto& x) { return !x.empty(); });
      if (q == ready.rend())
        break;
      if (!limiter.ready(now)) {
        arm(self, limiter.next_token_ms(now));
        break;
      }
      if (!breaker.try_acquire(now)) {
        if (breaker.state() == breaker_state::open)
          arm(self, breaker.open_until_ms());
        break;
      }
      limiter.take();
      batch.push_back(make_request(self, std::move(q->front()), now));
      q->pop_front();
      ++in_flight;
    }
    deps.engine->submit(std::move(batch));
  }
  maybe_page(self);
}

void subscriber_state::maybe_page(caf::event_based_actor* self) {
  auto limit = std::max<uint32_t>(deps.memory_limit, 2);
  if (!on_disk || page_requested || in_memory() >= limit / 2)
    return;
  page_requested = true;
  self->send(deps.persistence, page_atom::value, cfg.name, watermark,
             static_cast<uint32_t>(limit - in_memory()));
}

void subscriber_state::arm(caf::event_based_actor* self, int64_t due_ms) {
  if (due_ms >= wake_at)
    return;
  wake_at = due_ms;
  auto delay = std::max<int64_t>(due_ms - unix_ms_now(), 0);
  self->delayed_send(self, std::chrono::milliseconds(delay), wake_atom::value, ++wake_generation);
}

void subscriber_state::wake(caf::event_based_actor* self) {
  wake_at = std::numeric_limits<int64_t>::max();
  auto now = unix_ms_now();
  while (!waiting.empty() && waiting.begin()->first <= now) {
    auto node = waiting.extract(waiting.begin());
    accept(std::move(node.mapped()), now);
  }
  if (!waiting.empty())
    arm(self, waiting.begin()->first);
  pump(self);
}

http_request subscriber_state::signed_request(const event_payload& p, int64_t now_ms) const {
  auto ts = now_ms / 1000;
  auto ts_text = std::to_string(ts);
  http_request req;
  req.url = cfg.url;
  req.body = p.body;
  req.timeout_ms = cfg.timeout_ms;
  req.tls_insecure = cfg.tls_insecure;
  auto& h = req.headers;
  h.reserve(320 + 3 * p.id.size() + p.type.size() + 60 * keys.size());
  h.add("Content-Type", "application/json");
  h.add("User-Agent", "volley/" VOLLEY_VERSION);
  h.add("webhook-id", p.id);
  h.add("webhook-timestamp", ts_text);
  h.add("X-Webhook-ID", p.id);
  h.add("X-Webhook-Timestamp", ts_text);
  h.add("X-Event-Type", p.type);
  if (!keys.empty()) {
    h.add("webhook-signature", standard_signature_header(keys, p.id, ts, *p.body));
    // The legacy form carries one signature: the first (current) secret's.
    h.add("X-Webhook-Signature", legacy_signature(keys.front(), *p.body));
  }
  return req;
}

http_request subscriber_state::make_request(caf::event_based_actor* self, delivery&& d,
                                            int64_t now_ms) const {
  auto req = signed_request(*d.payload, now_ms);
  auto me = caf::actor_cast<caf::actor>(self);
  req.on_done = [me, queue = completions, d = std::move(d)](attempt_result&& r) mutable {
    if (queue->push(std::move(d), std::move(r)))
      caf::anon_send(me, http_done_atom::value);
  };
  return req;
}

void subscriber_state::count_attempt(const delivery& d, const attempt_result& r, const outcome& out,
                                     int64_t now_ms) {
  auto& c = report.counts;
  auto& t = report.by_type[d.payload->type];
  bool ok = out.what == verdict::delivered;
  for (auto* x : {&c, &t}) {
    x->attempts += 1;
    x->successes += ok ? 1 : 0;
    x->failures += ok ? 0 : 1;
    if (ok) {
      x->delivered += 1;
      x->delivered_attempts += d.record.attempts;
    }
  }
  auto key = r.status != 0 ? std::to_string(r.status) : r.timed_out ? "timeout" : "connection_error";
  c.outcomes[key] += 1;
  t.outcomes[key] += 1;
  if (r.status != 0) {
    c.latency.record(r.latency_ms);
    t.latency.record(r.latency_ms);
    if (r.latency_ms > static_cast<double>(deps.slow_ms))
      c.slow += 1;
  }
  report.last_attempt_ms = now_ms;
  if (ok) {
    report.last_success_ms = now_ms;
    return;
  }
  report.last_failure_ms = now_ms;
  report.last_error = out.reason;
  if (report.failures.size() < 32)
    report.failures.push_back(
      {now_ms, cfg.name, d.payload->id, d.payload->type, d.record.attempts, r.status, out.reason});
}

void subscriber_state::on_results(caf::event_based_actor* self) {
  auto now = unix_ms_now();
  for (auto& [d, r] : completions->take())
    on_result(self, std::move(d), std::move(r), now);
  schedule_writes(self);
  pump(self);
  if (draining && in_flight == 0) {
    send_writes(self); // persistence drains right after us
    finish_drain();
  }
}

void subscriber_state::on_result(caf::event_based_actor* self, delivery&& d, attempt_result&& r,
                                 int64_t now) {
  --in_flight;
  d.record.attempts += 1;
  auto out = classify(r);
  count_attempt(d, r, out, now);
  auto breaker_before = breaker.state();
  auto enabled_before = enabled;
  if (out.what == verdict::delivered) {
    if (breaker.on_success(now))
      log_info("subscriber=" + cfg.name + " breaker=closed (endpoint recovered)");
    writes.finished.push_back(std::move(d.record.key));
  } else {
    switch (out.what) {
      case verdict::retry:
        if (breaker.on_failure(now)) {
          fields f;
          f.text("subscriber", cfg.name)
            .text("breaker", "open")
            .integer("consecutive_failures", breaker.consecutive_failures())
            .integer("cooldown_ms", static_cast<int64_t>(breaker.cooldown_ms()))
            .text("last_error", out.reason);
          log_warn(f.logfmt());
        }
        if (d.record.attempts >= cfg.max_attempts)
          dead_letter(std::move(d), r, "attempts exhausted, last: " + out.reason, now);
        else
          retry_later(self, std::move(d), r, now);
        break;
      case verdict::gone:
        // The endpoint says it is gone for good: stop calling it, keep its
        // deliveries queued until an operator re-enables it, restarts
        // included (an operator's own disable keeps its reason).
        breaker.on_success(now);
        if (enabled)
          log_warn("subscriber=" + cfg.name + " disabled: " + gone_reason +
                   "; deliveries stay queued until it is re-enabled, also across restarts; " +
                   how_to_enable(cfg.name));
        if (!disable_recorded)
          set_enabled(false, gone_reason, true, now);
        writes.updates.push_back(d.record);
        accept(std::move(d), now);
        break;
      default: // dead_letter: the endpoint answered, so it is up
        breaker.on_success(now);
        dead_letter(std::move(d), r, out.reason, now);
        break;
    }
  }
  // State changes reach the monitor now, not at the next report tick.
  if (breaker.state() != breaker_before || enabled != enabled_before)
    send_report(self);
}

void subscriber_state::retry_later(caf::event_based_actor* self, delivery&& d,
                                   const attempt_result& r, int64_t now_ms) {
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = backoff.delay_ms(d.record.attempts, unit(rng));
  if (honours_retry_after(r.status))
    delay = backoff.with_retry_after(delay, parse_retry_after_ms(r.retry_after, now_ms));
  auto due = now_ms + static_cast<int64_t>(delay);
  d.record.next_attempt_ms = due;
  writes.updates.push_back(d.record);
  waiting.emplace(due, std::move(d));
  arm(self, due);
}

void subscriber_state::dead_letter(delivery&& d, const attempt_result& r,
                                   const std::string& reason, int64_t now_ms) {
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
    f.text("subscriber", cfg.name).text("dead_lettered", e.event_id).text("reason", reason);
    log_debug(f.logfmt());
  }
  report.counts.dead_lettered += 1;
  report.by_type[e.type].dead_lettered += 1;
  writes.dead_lettered.push_back(std::move(e));
}

void subscriber_state::set_enabled(bool on, const std::string& reason, bool record,
                                   int64_t now_ms) {
  enabled = on;
  disabled_reason = on ? std::string{} : reason;
  if (!record)
    return;
  // Enabling always writes: deleting an absent record costs nothing, and a
  // stale one would disable the subscriber again at the next start.
  writes.status_changes.push_back({cfg.name, !on, on ? std::string{} : reason, now_ms});
  disable_recorded = !on;
}

void subscriber_state::schedule_writes(caf::event_based_actor* self) {
  if (writes_scheduled || writes.empty())
    return;
  writes_scheduled = true;
  // Queues behind the completions already in the mailbox: one write message
  // covers all of them.
  self->send(self, flush_atom::value);
}

void subscriber_state::send_writes(caf::event_based_actor* self) {
  writes_scheduled = false;
  if (!writes.empty())
    self->send(deps.persistence, write_atom::value, std::exchange(writes, write_batch{}));
}

void subscriber_state::send_report(caf::event_based_actor* self) {
  report.name = cfg.name;
  report.queued = in_memory() - in_flight;
  for (size_t i = 0; i < ready.size(); ++i)
    report.ready_by_priority[i] = ready[i].size();
  report.waiting_retry = waiting.size();
  report.backlog_on_disk = on_disk;
  report.in_flight = in_flight;
  report.breaker = breaker.state();
  report.consecutive_failures = breaker.consecutive_failures();
  report.enabled = enabled;
  report.disabled_reason = disabled_reason;
  self->send(deps.monitor, report_atom::value, report);
  report.counts = delivery_counts{};
  report.by_type.clear();
  report.failures.clear();
}

void subscriber_state::finish_drain() {
  for (auto& rp : drain_waiters)
    rp.deliver(true);
  drain_waiters.clear();
}

void subscriber_state::configure(subscriber_config next) {
  keys.clear();
  for (const auto& s : next.secrets)
    if (auto key = signing_key_from_secret(s))
      keys.push_back(std::move(*key));
  // A breaker keeps its state unless its settings changed.
  auto same_breaker = cfg.breaker.failure_threshold == next.breaker.failure_threshold &&
                      cfg.breaker.cooldown_ms == next.breaker.cooldown_ms &&
                      cfg.breaker.max_cooldown_ms == next.breaker.max_cooldown_ms &&
                      cfg.breaker.failure_rate_percent == next.breaker.failure_rate_percent &&
                      cfg.breaker.min_requests == next.breaker.min_requests &&
                      cfg.breaker.rate_window_ms == next.breaker.rate_window_ms;
  if (!same_breaker)
    breaker = circuit_breaker{next.breaker};
  backoff = backoff_policy{next.backoff};
  if (next.rate_limit_per_s != cfg.rate_limit_per_s)
    limiter = token_bucket{next.rate_limit_per_s};
  if (next.tls_insecure)
    log_warn("subscriber=" + next.name + " tls_insecure=true: TLS certificates are NOT verified");
  cfg = std::move(next);
}

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, subscriber_config cfg,
                         subscriber_deps deps) {
  auto& st = self->state;
  st.breaker = circuit_breaker{cfg.breaker};
  st.limiter = token_bucket{cfg.rate_limit_per_s};
  st.enabled = cfg.enabled;
  if (!cfg.enabled)
    st.disabled_reason = config_reason;
  st.configure(std::move(cfg));
  st.deps = std::move(deps);
  self->send(st.deps.persistence, register_atom::value, st.cfg.name,
             caf::actor_cast<caf::actor>(self));
  st.maybe_page(self);
  self->delayed_send(self, report_interval, tick_atom::value);
  return {
    [=](deliver_atom, delivery_batch& batch, bool forced) {
      auto& st = self->state;
      auto now = unix_ms_now();
      for (auto& d : batch.deliveries) {
        if (!forced) {
          // Deliveries past the memory cap stay on disk: paged in later.
          if (st.on_disk)
            continue;
          if (st.in_memory() >= st.deps.memory_limit) {
            st.on_disk = true;
            continue;
          }
          st.watermark = std::max(st.watermark, d.record.key.event_seq);
        }
        st.accept(std::move(d), now);
      }
      st.wake(self);
    },
    [=](page_atom, delivery_batch& batch, bool complete) {
      auto& st = self->state;
      st.page_requested = false;
      auto now = unix_ms_now();
      for (auto& d : batch.deliveries) {
        if (d.record.key.event_seq <= st.watermark)
          continue;
        st.watermark = d.record.key.event_seq;
        st.accept(std::move(d), now);
      }
      if (complete)
        st.on_disk = false;
      st.wake(self);
    },
    [=](http_done_atom) { self->state.on_results(self); },
    [=](wake_atom, uint64_t generation) {
      if (generation == self->state.wake_generation)
        self->state.wake(self);
    },
    [=](flush_atom) { self->state.send_writes(self); },
    [=](tick_atom) {
      self->state.send_report(self);
      self->delayed_send(self, report_interval, tick_atom::value);
    },
    [=](update_atom, subscriber_config& next) {
      // Queued and in-flight deliveries stay; new attempts use the new URL,
      // secrets and limits. An operator's enable/disable (or a 410's) stands
      // unless the file itself changed "enabled". A change to true also
      // deletes a recorded disable; one to false records nothing: the file
      // says so at every start.
      auto& st = self->state;
      if (next.enabled != st.cfg.enabled && next.enabled != st.enabled) {
        st.set_enabled(next.enabled, config_reason, next.enabled, unix_ms_now());
        log_info("subscriber=" + next.name + (next.enabled ? " enabled" : " disabled") + " by reload");
        st.send_report(self);
        st.schedule_writes(self);
      }
      st.configure(std::move(next));
      self->state.pump(self);
    },
    [=](enable_atom, bool on) -> std::string {
      // Recorded on disk, so it holds after a restart; sent now, ahead of
      // the answer, so persistence commits it before the operator hears back.
      auto& st = self->state;
      if (st.enabled != on)
        log_info("subscriber=" + st.cfg.name + (on ? " enabled" : " disabled") + " by operator");
      auto changed = st.enabled != on;
      if (on || !st.disable_recorded)
        st.set_enabled(on, operator_reason, true, unix_ms_now());
      st.send_writes(self);
      if (changed)
        st.send_report(self);
      st.pump(self);
      fields answer;
      answer.boolean("ok", true).text("subscriber", st.cfg.name).boolean("enabled", st.enabled);
      return answer.json_object() + "\n";
    },
    [=](restore_atom, const std::string& reason, int64_t since_ms) {
      // Disabled before the last stop (410 Gone or an operator): stays so.
      // Persistence sends this ahead of any delivery or page.
      auto& st = self->state;
      st.enabled = false;
      st.disable_recorded = true;
      st.disabled_reason = reason;
      log_warn("subscriber=" + st.cfg.name + " disabled (recorded " +
               (since_ms > 0 ? format_rfc3339_ms(since_ms) : std::string{"at an unknown time"}) +
               " before this start: " + reason + "); its deliveries stay queued; " +
               how_to_enable(st.cfg.name));
      st.send_report(self);
    },
    [=](test_atom) -> caf::result<std::string> {
      // A signed test event, outside the queue: nothing is stored or retried.
      auto& st = self->state;
      auto now = unix_ms_now();
      event_payload p;
      p.id = "test_" + generate_event_id().substr(4);
      p.type = "volley.test";
      p.created_ms = now;
      std::string data = "{\"test\":true,\"subscriber\":";
      append_json_string(data, st.cfg.name);
      data += '}';
      p.body = std::make_shared<const std::string>(delivery_body(p.id, p.type, now, data));
      auto req = st.signed_request(p, now);
      auto tag = ++st.next_test_tag;
      auto me = caf::actor_cast<caf::actor>(self);
      req.on_done = [me, tag](attempt_result&& r) {
        caf::anon_send(me, test_atom::value, tag, std::move(r));
      };
      st.tests[tag] = self->make_response_promise();
      st.deps.engine->submit(std::move(req));
      return caf::delegated<std::string>{};
    },
    [=](test_atom, uint64_t tag, attempt_result& r) {
      auto& st = self->state;
      auto it = st.tests.find(tag);
      if (it == st.tests.end())
        return;
      auto out = classify(r);
      fields answer;
      answer.boolean("ok", true)
        .text("subscriber", st.cfg.name)
        .text("url", st.cfg.url)
        .integer("status", r.status)
        .text("outcome", out.what == verdict::delivered ? "delivered" : out.reason)
        .number("latency_ms", r.latency_ms);
      it->second.deliver(answer.json_object() + "\n");
      st.tests.erase(it);
    },
    [=](drain_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.draining = true;
      st.send_writes(self);
      if (st.in_flight == 0)
        return true;
      auto rp = self->make_response_promise();
      st.drain_waiters.push_back(rp);
      return caf::delegated<bool>{};
    },
  };
}

} // namespace volley
