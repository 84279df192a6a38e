#pragma once
// The persistence actor: the only writer of the store, on a thread of its own
// (spawned detached). Writes arrive as messages and are grouped: the first
// write after a commit sends the actor a `flush` message, which queues behind
// every write already in the mailbox, so one synced transaction covers them
// all. Only after the commit are events acknowledged and their deliveries
// handed to the subscriber actors.

#include "config/config.hpp"
#include "messages/messages.hpp"
#include "storage/store.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace volley {

struct persistence_state {
  static inline const char* name = "persistence";

  struct pending_ack {
    caf::actor reply_to;
    uint64_t slot = 0;
    std::string id;
    bool duplicate = false;
  };

  std::shared_ptr<store> db;
  caf::actor monitor;
  uint32_t batch_max = 4096;
  uint64_t last_seq = 0;
  bool flush_scheduled = false;

  write_batch pending;                                 // the next transaction
  std::vector<std::shared_ptr<event_payload>> payloads; // parallel to pending.events
  std::vector<pending_ack> acks;                        // in arrival order
  std::unordered_map<std::string, caf::actor> subscribers;

  void add_events(persist_batch& batch);
  void add_writes(write_batch& batch);
  // Commits what is pending, then acknowledges and dispatches.
  void flush(caf::event_based_actor* self);
  void send_gauges(caf::event_based_actor* self);
  std::string handle_op(caf::event_based_actor* self, const std::string& op, const std::string& line);
  size_t pending_records() const;
  std::string queue_line();
  // Hands an operator's op to one subscriber actor; its answer comes back.
  caf::result<std::string> forward_to(caf::event_based_actor* self, const std::string& name,
                                      caf::message msg);
};

caf::behavior persistence(caf::stateful_actor<persistence_state>* self, std::shared_ptr<store> db,
                          uint32_t batch_max, caf::actor monitor);

} // namespace volley
