#pragma once
// What the HTTP API asks of the running node, without CAF. Every call
// returns at once; its answer comes later through the callback, on another
// thread (which the callback must not block), at most once. A callback
// destroyed without being called (the node stopped first) destroys the
// responder it holds, and the client gets a 500.

#include "control/control_request.hpp"
#include "control/subscriber_change.hpp"
#include "health/metrics_snapshot.hpp"
#include "health/stats_series.hpp"
#include "protocol/ingress_line.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace volley {

struct control_answer {
  enum class kind {
    answered,           // `line` is the op's answer line
    no_such_subscriber, // the op names a subscriber that does not run here
    failed,             // the owner did not answer; `line` says why
  };
  kind what = kind::answered;
  std::string line;
};

using events_done = std::function<void(std::vector<std::string>)>;
using control_done = std::function<void(control_answer)>;
using metrics_done = std::function<void(std::optional<metrics_snapshot>)>; // nullopt: no answer
using series_done = std::function<void(std::optional<stats_series>)>;      // nullopt: no answer
using subscribers_done = std::function<void(subscriber_answer)>;

class node_gateway {
public:
  virtual ~node_gateway() = default;

  // Events, on the TCP ingress's path to storage. `done` gets one answer
  // line per event, in order, exactly as the ingress would answer it, once
  // every event is durable (or refused).
  virtual void ingest(std::vector<parsed_event> events, events_done done) = 0;
  // Event lines refused as malformed before they reached ingest (metrics).
  virtual void invalid_events(uint64_t lines) = 0;
  // A control op, answered by the owner the op table names.
  virtual void control(control_request request, control_done done) = 0;
  virtual void metrics(metrics_done done) = 0;
  // The monitor's counts over `window`, slot by slot (the dashboard's charts).
  virtual void series(series_window window, series_done done) = 0;
  // A read or change of subscribers; list and get answers carry each
  // subscriber's live state.
  virtual void subscribers(subscriber_change change, subscribers_done done) = 0;
};

} // namespace volley
