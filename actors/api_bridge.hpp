#pragma once
// The HTTP API's way into the actors. The API's handlers run on the HTTP
// server's threads and must never wait; each call of the node_gateway below
// is one message to the bridge actor, which sends on what was asked for,
// collects the answer and calls the handler's callback with it:
//   events    -> ingest_batch to the actor the TCP ingress sends to (it is
//                the batch's reply_to; the acks come back by slot)
//   control   -> the op's owner, chosen by the control plane as the ingress does
//   metrics, series -> the monitor
//   subscribers -> the node, then (for reads) the monitor for live state
// The bridge never blocks: every answer arrives as a message.

#include "actors/control_plane.hpp"
#include "api/node_gateway.hpp"
#include "messages/messages.hpp"
#include "time/clock.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace volley {

struct api_bridge_deps {
  caf::actor ingest;     // the TCP ingress's event target (ingress_deps::router)
  control_plane control; // op owners; `node` answers subscriber changes, `monitor` metrics
  clock_fn now = wall_clock();
};

struct api_bridge_state {
  static inline const char* name = "api_bridge";

  // One POST /v1/events waiting for its acknowledgements.
  struct waiting_events {
    std::vector<std::optional<std::string>> answers; // by slot - first slot
    size_t missing = 0;
    events_done done;
  };

  api_bridge_deps deps;
  uint64_t next_slot = 0;
  std::map<uint64_t, waiting_events> waiting; // by first slot

  void ingest(caf::event_based_actor* self, api_ingest& request);
  void acked(ack_batch& batch);
  void control(caf::event_based_actor* self, api_control& request);
  void subscribers(caf::event_based_actor* self, api_define& request);
};

caf::behavior api_bridge(caf::stateful_actor<api_bridge_state>* self, api_bridge_deps deps);

// The gateway the API's routes call: every call is one anon_send to the bridge.
class bridge_gateway : public node_gateway {
public:
  explicit bridge_gateway(caf::actor bridge) : bridge_(std::move(bridge)) {}

  void ingest(std::vector<parsed_event> events, events_done done) override;
  void invalid_events(uint64_t lines) override;
  void control(control_request request, control_done done) override;
  void metrics(metrics_done done) override;
  void series(series_window window, series_done done) override;
  void subscribers(subscriber_change change, subscribers_done done) override;

private:
  caf::actor bridge_;
};

} // namespace volley
