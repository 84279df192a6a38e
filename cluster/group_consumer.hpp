#pragma once
// The node's member of the consumer group on the events topic, on a thread
// of its own (librdkafka's poll may wait; no CAF thread ever runs it).
//
// It hands consumed records to a listener in batches, tracks them in the
// offset_tracker, commits offsets only past records the tracker says are
// done, and holds back when too many are in flight. Rebalances
// (cooperative-sticky, incremental) call the listener on this thread:
// assigned partitions are restored before they are fetched; revoked ones
// are drained, their offsets committed, then let go. A failed record makes
// its partition be read again from it.

#include "cluster/kafka_ptr.hpp"
#include "cluster/kafka_record.hpp"
#include "cluster/kafka_settings.hpp"
#include "cluster/offset_tracker.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace volley {

// What the consumer asks of the node. Every call comes from the consumer's
// thread and may block it.
class partition_listener {
public:
  virtual ~partition_listener() = default;
  virtual void records(std::vector<kafka_record>&& batch) = 0;
  // These partitions are this node's now: return once their state is
  // restored; their records follow.
  virtual void assigned(const std::vector<int32_t>& partitions) = 0;
  // These partitions leave: return once nothing of them is in flight any
  // more (`lost`: taken away without a rebalance; nothing can be committed).
  virtual void revoked(const std::vector<int32_t>& partitions, bool lost) = 0;
  // The partition is read again from an earlier offset after a failure.
  virtual void rewound(int32_t partition) = 0;
};

struct consumer_options {
  size_t max_in_flight = 20000; // records handed over and not done, before holding back
  size_t batch = 2000;          // records per hand-over at most
  std::chrono::milliseconds commit_interval{200};
  std::chrono::milliseconds drain_timeout{30000}; // a revoked partition's wait for its acks
};

class group_consumer {
public:
  group_consumer(kafka_conf_ptr conf, std::string topic, partition_listener& listener,
                 offset_tracker& offsets, consumer_options options, std::string& error);
  ~group_consumer(); // stop()

  group_consumer(const group_consumer&) = delete;
  group_consumer& operator=(const group_consumer&) = delete;

  // Joins the group and starts the thread.
  void start();
  // Leaves the group (its partitions revoked, drained and committed) and
  // joins the thread.
  void stop();

  std::vector<int32_t> assignment() const;
  // Records of each owned partition not yet consumed (high watermark minus
  // position), as last measured.
  std::map<int32_t, int64_t> lag() const;
  rd_kafka_t* handle() const { return handle_.get(); }

private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void run();
  void commit(const std::vector<offset_tracker::commit_point>& points, bool sync);
  void rewind_failed();
  void measure_lag();

  kafka_handle handle_;
  std::string topic_;
  partition_listener& listener_;
  offset_tracker& offsets_;
  consumer_options options_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  // After a rewind, records of the partition above the rewind point that
  // were fetched before it are dropped until the rewind point comes.
  std::map<int32_t, int64_t> rewinding_;
  std::map<int32_t, std::chrono::steady_clock::time_point> rewind_after_; // a failed partition's pause

  mutable std::mutex mutex_; // the two below, read by other threads
  std::set<int32_t> owned_;
  std::map<int32_t, int64_t> lag_;
};

} // namespace volley
