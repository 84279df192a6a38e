#pragma once
// Which consumed records of each partition are done (applied and in the
// changelog, or rejected as malformed), so the consumer commits offsets only
// past records that are: the committed offset of a partition is the lowest
// record not yet done. Shared by the consumer thread (it tracks what it
// hands over, commits, waits for a partition to drain) and the event
// consumer actor (it marks records done or failed). Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

namespace volley {

class offset_tracker {
public:
  struct commit_point {
    int32_t partition = 0;
    int64_t offset = 0; // the next record to read: every record below it is done
  };

  // A record handed over for processing.
  void track(int32_t partition, int64_t offset);
  // A record applied (or skipped for good: malformed, applied before).
  void done(int32_t partition, int64_t offset);
  // A record that could not be applied: the partition must be read again
  // from it. Returns true the first time a partition fails (the caller
  // arranges the seek); later failures of it until rewound() are ignored.
  bool failed(int32_t partition, int64_t offset);
  // The consumer went back to the failed offset; returns it.
  std::optional<int64_t> rewind_point(int32_t partition) const;
  void rewound(int32_t partition);

  // Partitions whose committable offset moved since the last call.
  std::vector<commit_point> take_commits();
  // The committable offset of one partition, if anything was done in it.
  std::optional<int64_t> committable(int32_t partition) const;

  // Records handed over and not done, in all partitions.
  size_t in_flight() const;
  // Waits until every record of the partition handed over is done or
  // failed, up to `timeout`; false when it timed out.
  bool wait_drained(int32_t partition, std::chrono::milliseconds timeout);
  // Waits until no more than `at_most` records are in flight.
  void wait_below(size_t at_most, std::chrono::milliseconds timeout);

  // The partition left this node: forget everything about it.
  void forget(int32_t partition);

private:
  struct partition_state {
    std::map<int64_t, bool> open; // offset -> done, for records handed over
    std::optional<int64_t> next;  // everything below is done
    bool moved = false;           // next changed since take_commits
    std::optional<int64_t> failed_at;
  };

  void advance(partition_state& s);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int32_t, partition_state> partitions_;
  size_t in_flight_ = 0;
};

} // namespace volley
