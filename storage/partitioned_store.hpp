#pragma once
// Several stores behind one interface: in cluster mode a node keeps each
// Kafka partition it owns in an LMDB environment of its own under `root`,
// so a partition can be restored, handed over and dropped whole. An event's
// seq carries its partition and offset (seq_of), so every delivery, DLQ
// entry and page read knows which store it belongs to. Writes for a
// partition this node no longer owns are dropped: their new owner restored
// the partition from the changelog.
//
// The delivery log is the node's own (what it attempted), kept in the node's
// store. A commit that spans partitions is one transaction per partition
// (and one for the node's log), not one for all: callers in cluster mode treat a failed commit as "not applied"
// and apply it again, which every write allows.

#include "storage/lmdb_store.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace volley {

class partitioned_store : public store {
public:
  static constexpr int partition_shift = 48;

  // The seq of the record at `offset` of `partition`: never 0, and the
  // first seq of a partition is above partition_start(partition).
  static uint64_t seq_of(uint16_t partition, int64_t offset) {
    return (uint64_t{partition} << partition_shift) | static_cast<uint64_t>(offset + 1);
  }
  static uint16_t partition_of(uint64_t seq) { return static_cast<uint16_t>(seq >> partition_shift); }
  static int64_t offset_of(uint64_t seq) {
    return static_cast<int64_t>(seq & ((uint64_t{1} << partition_shift) - 1)) - 1;
  }
  // Reads "after" this seq start at the partition's first record.
  static uint64_t partition_start(uint16_t partition) { return uint64_t{partition} << partition_shift; }

  // `node_store` keeps what is the node's own, not a partition's: the
  // delivery log (the attempts this node made). May be null (no log).
  partitioned_store(std::string root, uint64_t map_size_mb, std::shared_ptr<store> node_store = nullptr);

  // Opens an empty store for `partition`, removing whatever an earlier
  // holder left in its directory. Returns "" or what went wrong.
  std::string adopt(uint16_t partition);
  // Closes the partition's store and removes its directory.
  void release(uint16_t partition);
  std::shared_ptr<lmdb_store> partition(uint16_t partition) const;
  std::vector<uint16_t> partitions() const;
  // Removes every partition directory under root (a start-up finds only
  // leftovers: partitions are restored from their changelog when assigned).
  std::string remove_leftovers();

  write_result commit(const write_batch& batch) override;
  uint64_t last_event_seq() override { return 0; } // each partition has its own
  read_result<std::vector<std::string>> pending_subscribers() override;
  read_result<std::vector<pending_delivery>> read_pending(const std::string& subscriber, uint64_t after_seq,
                                                          page_bounds bounds) override;
  read_result<size_t> count_pending(const std::string& subscriber) override;
  read_result<std::array<size_t, 4>> count_pending_by_priority(const std::string& subscriber) override;
  read_result<size_t> count_pending_total() override;
  read_result<std::vector<dlq_record>> list_dlq(const std::optional<std::string>& subscriber,
                                                const std::optional<delivery_key>& after,
                                                size_t limit) override;
  read_result<size_t> count_dlq() override;
  void release_cached_pages() override;
  read_result<std::vector<remembered_id>> recent_ids(int64_t since_ms, size_t limit) override;
  read_result<std::vector<subscriber_status>> disabled_subscribers() override;
  read_result<std::vector<subscriber_definition>> subscriber_definitions() override;
  read_result<std::optional<event_log>> read_event_log(const std::string& event_id) override;
  read_result<std::vector<logged_attempt>> list_attempts(const attempt_query& query) override;
  read_result<std::optional<std::string>> monitor_snapshot() override;

private:
  std::string directory_of(uint16_t partition) const;
  std::map<uint16_t, std::shared_ptr<lmdb_store>> snapshot() const;

  std::string root_;
  uint64_t map_size_mb_;
  std::shared_ptr<store> node_store_;
  mutable std::mutex mutex_; // the map; the stores are safe to use from any thread
  std::map<uint16_t, std::shared_ptr<lmdb_store>> stores_;
};

} // namespace volley
