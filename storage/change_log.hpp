#pragma once
// Where a store's changes go to outlive the node that made them: in cluster
// mode, the compacted changelog topic, one Kafka partition per store
// partition. Appends are kept in order per partition and retried until the
// broker holds them; `on_durable` then runs (on the log's own thread), once
// every change of the append is durable.

#include "storage/records.hpp"

#include <functional>
#include <vector>

namespace volley {

class change_log {
public:
  virtual ~change_log() = default;
  virtual void append(std::vector<mirrored_change>&& changes, std::function<void()> on_durable) = 0;
};

} // namespace volley
