#include "actors/kafka_ingest.hpp"

#include "protocol/ingress_line.hpp"

namespace volley {

caf::behavior kafka_ingest(caf::stateful_actor<kafka_ingest_state>*,
                           std::shared_ptr<event_producer> producer) {
  return {
    [=](ingest_atom, ingest_batch& batch) {
      for (auto& item : batch.items) {
        auto& ev = item.event;
        if (ev.id.empty())
          ev.id = generate_event_id();
        const auto& key = ev.key.empty() ? ev.id : ev.key;
        auto reply_to = batch.reply_to;
        auto slot = item.slot;
        auto id = ev.id;
        producer->produce(key, event_line(ev), [reply_to, slot, id](bool ok, const std::string& error) {
          ack_batch answer;
          answer.acks.push_back({slot, ok ? ack_line(id, false) : error_line("not accepted: " + error)});
          caf::anon_send(reply_to, ack_atom::value, std::move(answer));
        });
      }
    },
  };
}

} // namespace volley
