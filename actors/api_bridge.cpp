#include "actors/api_bridge.hpp"

#include "protocol/fields.hpp"
#include "protocol/ingress_line.hpp"

namespace volley {

void api_bridge_state::ingest(caf::event_based_actor* self, api_ingest& request) {
  if (request.events.empty()) {
    request.done({});
    return;
  }
  const uint64_t first = next_slot;
  ingest_batch batch;
  batch.reply_to = caf::actor_cast<caf::actor>(self);
  batch.items.reserve(request.events.size());
  const auto received_ms = deps.now();
  for (auto& event : request.events)
    batch.items.push_back({next_slot++, std::move(event), received_ms});
  auto& w = waiting[first];
  w.answers.resize(batch.items.size());
  w.missing = batch.items.size();
  w.done = std::move(request.done);
  self->send(deps.ingest, ingest_atom::value, std::move(batch));
}

void api_bridge_state::acked(ack_batch& batch) {
  for (auto& a : batch.acks) {
    auto it = waiting.upper_bound(a.slot);
    if (it == waiting.begin())
      continue;
    --it;
    auto& w = it->second;
    const uint64_t index = a.slot - it->first;
    if (index >= w.answers.size() || w.answers[index])
      continue; // not one of ours, or answered already
    w.answers[index] = std::move(a.line);
    if (--w.missing > 0)
      continue;
    std::vector<std::string> lines;
    lines.reserve(w.answers.size());
    for (auto& line : w.answers)
      lines.push_back(std::move(*line));
    auto done = std::move(w.done);
    waiting.erase(it);
    done(std::move(lines));
  }
}

void api_bridge_state::control(caf::event_based_actor* self, api_control& request) {
  auto route = deps.control.route_of(request.request);
  if (!route.target) {
    const bool unknown = request.request.owner() == control_owner::subscriber;
    request.done({unknown ? control_answer::kind::no_such_subscriber : control_answer::kind::failed,
                  std::move(route.error)});
    return;
  }
  auto done = std::move(request.done);
  self->request(route.target, caf::infinite, control_atom::value, std::move(request.request))
    .then(
      [done](std::string& line) {
        done({control_answer::kind::answered, std::move(line)});
      },
      [done, self](caf::error& err) {
        done({control_answer::kind::failed, error_line("op failed: " + self->system().render(err))});
      });
}

void api_bridge_state::subscribers(caf::event_based_actor* self, api_define& request) {
  const bool read = request.change.what == subscriber_change::kind::list ||
                    request.change.what == subscriber_change::kind::get;
  auto done = std::move(request.done);
  auto monitor = deps.control.monitor;
  self->request(deps.control.node, caf::infinite, define_atom::value, std::move(request.change))
    .then(
      [=](subscriber_answer& answer) {
        if (!read || answer.what != subscriber_answer::kind::ok || !monitor) {
          done(std::move(answer));
          return;
        }
        control_request live;
        live.op = control_op::subscribers;
        self->request(monitor, caf::infinite, control_atom::value, live)
          .then(
            [done, answer](std::string& line) mutable {
              answer.body = with_live_state(answer.body, line);
              done(std::move(answer));
            },
            [done, answer](caf::error&) mutable { done(std::move(answer)); });
      },
      [=](caf::error& err) {
        subscriber_answer failed;
        failed.what = subscriber_answer::kind::unavailable;
        fields body;
        body.text("error", "the node did not answer: " + self->system().render(err));
        failed.body = body.json_object();
        done(std::move(failed));
      });
}

caf::behavior api_bridge(caf::stateful_actor<api_bridge_state>* self, api_bridge_deps deps) {
  self->state.deps = std::move(deps);
  return {
    [=](ingest_atom, api_ingest& request) { self->state.ingest(self, request); },
    [=](ack_atom, ack_batch& batch) { self->state.acked(batch); },
    [=](invalid_atom, uint64_t lines) {
      if (self->state.deps.control.monitor)
        self->send(self->state.deps.control.monitor, invalid_atom::value, lines);
    },
    [=](control_atom, api_control& request) { self->state.control(self, request); },
    [=](metrics_atom, api_metrics& request) {
      auto done = std::move(request.done);
      self->request(self->state.deps.control.monitor, caf::infinite, metrics_atom::value)
        .then([done](metrics_snapshot& snapshot) { done(std::move(snapshot)); },
              [done](caf::error&) { done(std::nullopt); });
    },
    [=](series_atom, api_series& request) {
      auto done = std::move(request.done);
      self->request(self->state.deps.control.monitor, caf::infinite, series_atom::value, request.window)
        .then([done](stats_series& series) { done(std::move(series)); },
              [done](caf::error&) { done(std::nullopt); });
    },
    [=](define_atom, api_define& request) { self->state.subscribers(self, request); },
  };
}

void bridge_gateway::ingest(std::vector<parsed_event> events, events_done done) {
  caf::anon_send(bridge_, ingest_atom::value, api_ingest{std::move(events), std::move(done)});
}

void bridge_gateway::invalid_events(uint64_t lines) { caf::anon_send(bridge_, invalid_atom::value, lines); }

void bridge_gateway::control(control_request request, control_done done) {
  caf::anon_send(bridge_, control_atom::value, api_control{std::move(request), std::move(done)});
}

void bridge_gateway::metrics(metrics_done done) {
  caf::anon_send(bridge_, metrics_atom::value, api_metrics{std::move(done)});
}

void bridge_gateway::series(series_window window, series_done done) {
  caf::anon_send(bridge_, series_atom::value, api_series{window, std::move(done)});
}

void bridge_gateway::subscribers(subscriber_change change, subscribers_done done) {
  caf::anon_send(bridge_, define_atom::value, api_define{std::move(change), std::move(done)});
}

} // namespace volley
