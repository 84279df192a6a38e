#pragma once
// The tests' view of volleyd's control lines: `stats` and the `dlq.*` ops,
// answers parsed into plain structs.

#include "tests/support/line_client.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace volley::test {

// Running totals since the daemon started; the rest as of the last report.
struct subscriber_stats {
  std::string breaker; // "closed" | "open" | "half_open"
  bool enabled = true;
  int64_t queued = 0;
  int64_t in_flight = 0;
  bool backlog_on_disk = false;
  int64_t consecutive_failures = 0;
  int64_t delivered_total = 0;
  int64_t attempts_total = 0;
  int64_t dead_lettered_total = 0;
};

struct node_stats {
  int64_t queued = 0; // pending deliveries on disk
  int64_t dlq = 0;
  int64_t delivered_total = 0;
  int64_t attempts_total = 0;
  int64_t dead_lettered_total = 0;
  int64_t memory_used_bytes = 0;   // deliveries in memory, as queue.memory_mb counts them
  int64_t memory_budget_bytes = 0; // 0: no budget
  std::map<std::string, subscriber_stats> subscribers;
};

struct dlq_entry {
  std::string key;
  std::string subscriber;
  std::string event_id;
  std::string type;
  int64_t attempts = 0;
  int64_t last_status = 0;
  std::string last_error;
  std::string body;
};

struct dlq_page {
  std::vector<dlq_entry> entries;
  std::optional<std::string> next; // null in the answer: the last page
};

// The answer to `dlq.retry` / `dlq.delete`.
struct op_result {
  bool ok = false;
  int64_t count = -1;
  std::string error;
  std::string line; // the raw answer, for messages
};

class control_client {
public:
  // Connects to the ingress on 127.0.0.1:port; throws when it cannot.
  explicit control_client(uint16_t port);

  // Sends one control line; returns its answer line. Throws
  // std::runtime_error when no answer arrives.
  std::string call(const std::string& line);

  // Throw std::runtime_error (with the answer) when the answer is not what
  // the protocol promises.
  node_stats stats();
  dlq_page dlq_list(const std::optional<std::string>& subscriber, size_t limit,
                    const std::optional<std::string>& after = std::nullopt);
  // Every entry, following "next" page by page.
  std::vector<dlq_entry> dlq_all(const std::optional<std::string>& subscriber = std::nullopt,
                                 size_t page_size = 1000);
  op_result dlq_op(const std::string& op, const std::string& field, const std::string& value);

private:
  line_client client_;
};

} // namespace volley::test
