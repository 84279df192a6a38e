#pragma once
// The changelog topic as a change_log: every change a partition's store
// made goes to the same partition of the changelog (key: database tag and
// key; value: the new value, or a tombstone for a deletion), in order, by an
// idempotent producer that never gives a record up. An append is durable
// when the brokers hold all of its records; its callback then runs on the
// writer's poll thread.
//
// append() runs on the persistence thread (a thread of its own, never a CAF
// scheduler thread): when librdkafka's local queue is full it waits there,
// polling, which holds commits back until the brokers catch up.

#include "cluster/kafka_ptr.hpp"
#include "cluster/kafka_settings.hpp"
#include "storage/change_log.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace volley {

class changelog_writer : public change_log {
public:
  changelog_writer(kafka_conf_ptr conf, std::string topic, std::string& error);
  ~changelog_writer() override;

  changelog_writer(const changelog_writer&) = delete;
  changelog_writer& operator=(const changelog_writer&) = delete;

  void append(std::vector<mirrored_change>&& changes, std::function<void()> on_durable) override;

  // Waits until every record appended so far is durable, up to `timeout`;
  // false when some are not.
  bool flush(std::chrono::milliseconds timeout);

  rd_kafka_t* handle() const { return handle_.get(); }

private:
  struct append_state; // one append's records still owed
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*);
  void poll_loop();

  kafka_handle handle_;
  std::string topic_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

} // namespace volley
