#pragma once
// The LMDB backend: one environment directory, synced commits.

#include "storage/store.hpp"

#include <memory>
#include <string>

namespace volley {

class lmdb_store : public store {
public:
  // Creates `path` if needed and opens the environment with a map of
  // `map_size_mb`. Returns nullptr and sets `error` (what, where, what to do)
  // on failure.
  static std::unique_ptr<lmdb_store> open(const std::string& path, uint64_t map_size_mb, std::string& error);

  // Records every change of a commit in its write_result (off by default).
  void set_mirroring(bool on);
  // Replays mirrored changes (another store's, in their order) in one
  // transaction; `source` is ignored. Keys of unknown databases are refused.
  write_result apply_changes(const std::vector<mirrored_change>& changes);
  ~lmdb_store() override;

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
  void release_cached_pages() override;
  read_result<std::vector<remembered_id>> recent_ids(int64_t since_ms, size_t limit) override;
  read_result<std::vector<subscriber_status>> disabled_subscribers() override;
  read_result<std::vector<subscriber_definition>> subscriber_definitions() override;
  read_result<std::optional<event_log>> read_event_log(const std::string& event_id) override;
  read_result<std::vector<logged_attempt>> list_attempts(const attempt_query& query) override;
  read_result<std::optional<std::string>> monitor_snapshot() override;

private:
  struct impl;
  explicit lmdb_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace volley
