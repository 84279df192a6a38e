#include "actors/subscriber.hpp"

#include "delivery/outcome.hpp"
#include "protocol/fields.hpp"
#include "protocol/ingress_line.hpp"

#include <chrono>

namespace volley {

namespace {

constexpr auto report_interval = std::chrono::milliseconds(1000);

// What an error says, for a log line: the text it carries when there is one.
std::string what_of(caf::event_based_actor* self, const caf::error& err) {
  const auto& context = err.context();
  if (context.match_elements<std::string>())
    return context.get_as<std::string>(0);
  return self->system().render(err);
}

} // namespace

void subscriber_state::carry_out(caf::event_based_actor* self, bool woken) {
  auto now = deps.now();
  // Asked and not yet woken: others were first, the room is theirs.
  auto room = woken        ? std::min(deps.transport->room_when_woken(), room_wanted)
              : room_asked ? 0
                           : deps.transport->room();
  auto starts = core->start_requests(now, room);
  if (!starts.empty()) {
    std::vector<http_request> batch;
    batch.reserve(starts.size());
    for (auto& s : starts) {
      s.request.on_done = [inbox = completions.get(), d = std::move(s.attempt)](attempt_result&& r) mutable {
        inbox->add({std::move(d), std::move(r)});
      };
      s.request.signal = completions; // keeps the inbox alive for on_done
      batch.push_back(std::move(s.request));
    }
    deps.transport->submit(std::move(batch));
  }
  if (core->out_of_room() && !room_asked) {
    room_asked = true;
    room_wanted = core->room_wanted();
    deps.transport->when_room(
      room_wanted, [me = caf::actor_cast<caf::actor>(self)] { caf::anon_send(me, room_atom::value); });
  }
  if (auto t = core->timer_to_arm())
    self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(t->due_ms - now, 0)),
                       wake_atom::value, t->generation);
  if (auto p = core->page_to_read(now)) {
    self
      ->request(deps.persistence, caf::infinite, page_atom::value, core->name(), p->after_seq, p->limit,
                p->max_bytes)
      .then(
        [=](delivery_page& page) {
          core->paged(std::move(page.deliveries), page.complete, deps.now());
          carry_out(self);
        },
        [=](caf::error& err) {
          core->page_failed(what_of(self, err), deps.now());
          carry_out(self);
        });
  }
  if (core->has_writes() && !flush_scheduled) {
    // Queues behind the results already in the mailbox: one write message
    // covers all of them.
    flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  if (core->report_due())
    send_report(self);
  if (!tick_armed) {
    // Something happened: report periodically again until it has settled.
    tick_armed = true;
    self->delayed_send(self, report_interval, tick_atom::value);
  }
  if (core->draining() && core->in_flight() == 0 && !drain_waiters.empty()) {
    send_writes(self); // persistence drains right after us
    for (auto& rp : drain_waiters)
      rp.deliver(true);
    drain_waiters.clear();
  }
}

void subscriber_state::send_writes(caf::event_based_actor* self) {
  flush_scheduled = false;
  if (core->has_writes())
    self->send(deps.persistence, write_atom::value, core->take_writes());
}

void subscriber_state::send_report(caf::event_based_actor* self) {
  self->send(deps.monitor, report_atom::value, core->report());
}

caf::result<std::string> subscriber_state::enable(caf::event_based_actor* self, bool on) {
  auto enabled = core->operator_enable(on, deps.now());
  auto writes = core->take_writes();
  carry_out(self);
  // Answered once the change is on disk, so it holds after a restart.
  auto rp = self->make_response_promise<std::string>();
  auto name = core->name();
  self->request(deps.persistence, caf::infinite, commit_atom::value, std::move(writes))
    .then(
      [rp, name, enabled](bool) mutable {
        fields answer;
        answer.boolean("ok", true).text("subscriber", name).boolean("enabled", enabled);
        rp.deliver(answer.json_object() + "\n");
      },
      [rp, self](caf::error& err) mutable {
        rp.deliver(error_line("the change is not on disk: " + what_of(self, err)));
      });
  return rp;
}

caf::result<std::string> subscriber_state::test(caf::event_based_actor* self) {
  // A signed test event, outside the queue: nothing is stored or retried.
  auto req = core->test_request(deps.now());
  auto tag = ++next_test_tag;
  auto me = caf::actor_cast<caf::actor>(self);
  req.on_done = [me, tag](attempt_result&& r) {
    caf::anon_send(me, test_done_atom::value, tag, std::move(r));
  };
  tests[tag] = self->make_response_promise();
  deps.transport->submit(std::move(req));
  return caf::delegated<std::string>{};
}

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, subscriber_config cfg,
                         subscriber_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.core.emplace(std::move(cfg), st.deps.memory_limit, st.deps.slow_ms, st.deps.seed, st.deps.single_store,
                  st.deps.budget);
  st.core->log_attempts(st.deps.log_attempts);
  st.completions->set_owner(self->address());
  if (st.deps.recorded_disable)
    st.core->restore_disabled(st.deps.recorded_disable->reason, st.deps.recorded_disable->since_ms);
  st.carry_out(self); // the first page of what waits on disk (and the first report tick)
  return {
    [=](deliver_atom, delivery_batch& batch) {
      self->state.core->committed(std::move(batch.deliveries), self->state.deps.now());
      self->state.carry_out(self);
    },
    [=](requeue_atom, delivery_batch& batch) {
      self->state.core->requeued(std::move(batch.deliveries), self->state.deps.now());
      self->state.carry_out(self);
    },
    [=](http_done_atom) {
      auto& st = self->state;
      for (auto& [d, r] : st.completions->take())
        st.core->attempt_done(std::move(d), std::move(r), st.deps.now());
      st.carry_out(self);
    },
    [=](wake_atom, uint64_t generation) {
      if (self->state.core->timer_fired(generation, self->state.deps.now()))
        self->state.carry_out(self);
    },
    [=](flush_atom) { self->state.send_writes(self); },
    [=](room_atom) {
      self->state.room_asked = false;
      self->state.carry_out(self, true);
    },
    [=](adopt_atom, uint16_t partition) {
      self->state.core->adopt_partition(partition);
      self->state.carry_out(self);
    },
    [=](drop_atom, uint16_t partition) {
      self->state.core->drop_partition(partition);
      self->state.carry_out(self);
    },
    [=](restore_atom, const subscriber_status& recorded) {
      // A partition this node took over says the subscriber is disabled.
      auto& st = self->state;
      if (st.core->enabled())
        st.core->restore_disabled(recorded.reason, recorded.since_ms);
      st.carry_out(self);
    },
    [=](tick_atom) {
      auto& st = self->state;
      if (auto r = st.core->report_if_changed()) {
        self->send(st.deps.monitor, report_atom::value, std::move(*r));
        self->delayed_send(self, report_interval, tick_atom::value);
      } else {
        st.tick_armed = false; // quiet: the next activity arms it again
      }
    },
    [=](reconfig_atom, subscriber_config& next) {
      self->state.core->reconfigure(std::move(next), self->state.deps.now());
      self->state.carry_out(self);
    },
    [=](control_atom, const control_request& req) -> caf::result<std::string> {
      switch (req.op) {
        case control_op::subscriber_enable:
          return self->state.enable(self, true);
        case control_op::subscriber_disable:
          return self->state.enable(self, false);
        case control_op::test:
          return self->state.test(self);
        default:
          return error_line(std::string{"a subscriber does not answer \""} + req.name() + "\"");
      }
    },
    [=](test_done_atom, uint64_t tag, attempt_result& r) {
      auto& st = self->state;
      auto it = st.tests.find(tag);
      if (it == st.tests.end())
        return;
      auto out = classify(r);
      fields answer;
      answer.boolean("ok", true)
        .text("subscriber", st.core->name())
        .text("url", st.core->config().url)
        .integer("status", r.status)
        .text("outcome", out.what == verdict::delivered ? "delivered" : out.reason)
        .number("latency_ms", r.latency_ms);
      it->second.deliver(answer.json_object() + "\n");
      st.tests.erase(it);
    },
    [=](drain_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.core->drain();
      st.send_writes(self);
      if (st.core->in_flight() == 0)
        return true;
      st.drain_waiters.push_back(self->make_response_promise());
      return caf::delegated<bool>{};
    },
  };
}

} // namespace volley
