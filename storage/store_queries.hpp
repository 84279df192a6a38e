#pragma once
// The operator's questions to the store and its dead-letter changes, as
// plain functions over any store: the answers of the `queue`, `dlq.list`,
// `dlq.retry` and `dlq.delete` ops. Reads may run on any thread; changes
// belong to the store's one writer.

#include "control/control_request.hpp"
#include "delivery/delivery.hpp"
#include "storage/read_result.hpp"
#include "storage/store.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace volley {

// Everything pending on disk, by subscriber and priority, and the DLQ size.
// Subscribers no longer configured show up too, so leftovers are never
// invisible; configured ones without anything pending show zeros.
read_result<std::string> queue_answer(store& db, const std::vector<std::string>& configured);

// One page of dead-letter entries (`subscriber`, `after`, `limit`).
read_result<std::string> dlq_list_answer(store& db, const control_request& req);

// One event's delivery log: the event, and per subscriber its attempts and
// how the delivery ended; an error line when the log has no such event.
read_result<std::string> event_log_answer(store& db, const std::string& event_id);

// Logged attempts, newest first (`events.list`); `now_ms` for `within_ms`.
read_result<std::string> attempts_answer(store& db, const control_request& req, int64_t now_ms);

struct dlq_change {
  std::string answer; // the op's answer line: how many entries changed, or the error
  // Entries put back in the queue, by subscriber. They are older than what
  // subscribers page in from disk, so they are handed over whatever the cap.
  std::unordered_map<std::string, std::vector<delivery>> requeued;
};

// Applies `dlq.retry` or `dlq.delete` to one entry (`key`) or to every entry
// of `subscriber`, in one transaction.
dlq_change change_dlq(store& db, const control_request& req);

} // namespace volley
