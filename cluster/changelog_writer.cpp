#include "cluster/changelog_writer.hpp"

#include "logging/logger.hpp"

namespace volley {

struct changelog_writer::append_state {
  std::atomic<size_t> owed{0};
  std::function<void()> on_durable;
};

changelog_writer::changelog_writer(kafka_conf_ptr conf, std::string topic, std::string& error)
  : topic_(std::move(topic)) {
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &changelog_writer::on_delivery);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    error = std::string{"cannot create the changelog producer: "} + errstr;
    return;
  }
  conf.release();
  handle_.reset(rk);
  poller_ = std::thread{[this] { poll_loop(); }};
}

changelog_writer::~changelog_writer() {
  if (!handle_)
    return;
  if (rd_kafka_flush(handle_.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    log_warn("changelog: " + std::to_string(rd_kafka_outq_len(handle_.get())) +
             " changes were not in Kafka at shutdown; their events are consumed and applied "
             "again by the partition's next owner");
  stopping_ = true;
  poller_.join();
  rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(handle_.get(), 0);
}

void changelog_writer::poll_loop() {
  while (!stopping_)
    rd_kafka_poll(handle_.get(), 100);
}

void changelog_writer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* state = static_cast<append_state*>(message->_private);
  if (state == nullptr)
    return;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Only a fatal error ends a record that is never given up; the append
    // stays owed, so its events are not acknowledged and are consumed again.
    log_error(std::string{"changelog: a change could not be written: "} + rd_kafka_err2str(message->err) +
              "; its events stay unacknowledged");
    return;
  }
  if (state->owed.fetch_sub(1) == 1) {
    state->on_durable();
    delete state;
  }
}

void changelog_writer::append(std::vector<mirrored_change>&& changes, std::function<void()> on_durable) {
  if (changes.empty()) {
    on_durable();
    return;
  }
  if (!handle_)
    return; // never durable: logged at start
  auto* state = new append_state;
  state->owed = changes.size();
  state->on_durable = std::move(on_durable);
  for (auto& c : changes) {
    // A deletion is a tombstone: a record without a value.
    void* value = c.value ? static_cast<void*>(c.value->data()) : nullptr;
    size_t value_size = c.value ? c.value->size() : 0;
    int32_t partition = c.source;
    for (;;) {
      auto err =
        rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_KEY(c.key.data(), c.key.size()), RD_KAFKA_V_VALUE(value, value_size),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(state), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        log_error(std::string{"changelog: cannot queue a change: "} + rd_kafka_err2str(err) +
                  "; its events stay unacknowledged");
        return; // the state stays owed for ever: a small leak on a fatal path
      }
      // Full: the brokers are behind. Wait here (the persistence thread).
      rd_kafka_poll(handle_.get(), 100);
    }
  }
}

bool changelog_writer::flush(std::chrono::milliseconds timeout) {
  if (!handle_)
    return false;
  return rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

} // namespace volley
