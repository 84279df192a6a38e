#pragma once
// A store kept in std::maps: the same semantics as lmdb_store, no disk.
// Lets actor tests run without a data directory, and lets tests make commits
// and reads fail on purpose.

#include "storage/store.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace volley {

class memory_store : public store {
public:
  write_result commit(const write_batch& batch) override;
  uint64_t last_event_seq() override;
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
  read_result<std::vector<remembered_id>> recent_ids(int64_t since_ms, size_t limit) override;
  read_result<std::vector<subscriber_status>> disabled_subscribers() override;
  read_result<std::vector<subscriber_definition>> subscriber_definitions() override;
  read_result<std::optional<event_log>> read_event_log(const std::string& event_id) override;
  read_result<std::vector<logged_attempt>> list_attempts(const attempt_query& query) override;
  read_result<std::optional<std::string>> monitor_snapshot() override;

  // While set, every commit returns `status` (full or failed) and changes
  // nothing, so tests can drive the error paths of the persistence actor.
  void set_commit_failure(std::optional<write_status> status);
  // While set, page and list reads fail with this error.
  void set_read_failure(std::optional<std::string> error);

private:
  // (subscriber, event_seq): the same order as lmdb_store's keys, because
  // subscriber names hold no NUL byte.
  using key_type = std::pair<std::string, uint64_t>;

  struct stored_event {
    event_record event;
    uint32_t refcount = 0;
  };

  static key_type key_of(const delivery_key& key) { return {key.subscriber, key.event_seq}; }
  void release_event(uint64_t seq);
  void remember_id(const remembered_id& r);
  void prune_ids(const id_pruning& p);

  std::map<uint64_t, stored_event> events_;
  std::map<key_type, delivery_record> deliveries_;
  std::map<key_type, dlq_record> dlq_;
  std::map<std::string, int64_t> remembered_;                    // id -> accept ms
  std::set<std::pair<int64_t, std::string>> remembered_by_time_; // oldest first
  std::map<std::string, subscriber_status> disabled_;
  std::map<std::string, subscriber_definition> definitions_;
  static uint64_t logged_size(const logged_event& e);
  static uint64_t logged_size(const logged_attempt& a);
  void prune_log(const log_pruning& p);
  std::map<std::string, logged_event> log_events_;
  std::map<std::string, std::vector<logged_attempt>> log_attempts_;
  std::set<std::pair<int64_t, std::string>> log_by_time_; // events, oldest first
  uint64_t log_bytes_ = 0;
  std::optional<std::string> monitor_snapshot_;
  uint64_t last_event_seq_ = 0;
  std::optional<write_status> failure_;
  std::optional<std::string> read_failure_;
  mutable std::mutex mutex_; // reads may come from another thread than commits
};

} // namespace volley
