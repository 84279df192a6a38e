#include "cluster/topic_event.hpp"

#include <cstdio>

namespace volley {

std::string kafka_event_id(int32_t partition, int64_t offset) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "evt_p%d_o%lld", partition, static_cast<long long>(offset));
  return buf;
}

topic_event read_topic_event(const kafka_record& r) {
  topic_event out;
  if (!r.value) {
    out.rejected = "a record without a value is not an event";
    return out;
  }
  auto parsed = parse_ingress_line(*r.value);
  if (parsed.what == parsed_line::kind::error) {
    out.rejected = parsed.error;
    return out;
  }
  if (parsed.what == parsed_line::kind::op) {
    out.rejected = "a control line is not an event";
    return out;
  }
  auto& ev = parsed.event;
  // An id like the ones Volley generates is not the client's: it is not
  // remembered for deduplication (README, "queue.dedup_window_s").
  out.client_id = !ev.id.empty() && !looks_generated(ev.id);
  if (ev.id.empty())
    ev.id = kafka_event_id(r.partition, r.offset);
  out.event = std::move(ev);
  return out;
}

} // namespace volley
