#include "cluster/event_producer.hpp"

#include <memory>

namespace volley {

event_producer::event_producer(kafka_conf_ptr conf, std::string topic, std::string& error)
  : topic_(std::move(topic)) {
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &event_producer::on_delivery);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    error = std::string{"cannot create the events producer: "} + errstr;
    return;
  }
  conf.release(); // rd_kafka_new took it
  handle_.reset(rk);
  poller_ = std::thread{[this] { poll_loop(); }};
}

event_producer::~event_producer() {
  if (!handle_)
    return;
  rd_kafka_flush(handle_.get(), 5000); // what is queued gets its chance
  stopping_ = true;
  poller_.join();
  rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(handle_.get(), 0); // purged records report their failure
}

void event_producer::poll_loop() {
  while (!stopping_)
    rd_kafka_poll(handle_.get(), 100);
}

void event_producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  std::unique_ptr<result_fn> done{static_cast<result_fn*>(message->_private)};
  if (!done)
    return;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR)
    (*done)(true, "");
  else
    (*done)(false, std::string{"the events topic did not take it: "} + rd_kafka_err2str(message->err));
}

void event_producer::produce(const std::string& key, std::string value, result_fn done) {
  if (!handle_) {
    done(false, "the events producer could not be created (see the log)");
    return;
  }
  auto* opaque = new result_fn{std::move(done)};
  auto err =
    rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                      RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::unique_ptr<result_fn> owned{opaque};
    (*owned)(false, err == RD_KAFKA_RESP_ERR__QUEUE_FULL
                      ? "too many events waiting for the brokers; send it again later"
                      : std::string{"cannot queue it for the events topic: "} + rd_kafka_err2str(err));
  }
}

} // namespace volley
