#pragma once
// Writes accepted events to the events topic (cluster mode's ingress): an
// idempotent producer with acks=all, so an event is acknowledged to its
// client only once every in-sync replica holds it. Each event's result
// comes back through its callback, on the producer's own poll thread: ok,
// or why not (brokers unreachable past message.timeout.ms, queue full...).
// Never blocks the caller.

#include "cluster/kafka_ptr.hpp"
#include "cluster/kafka_settings.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace volley {

class event_producer {
public:
  // ok, or the error text for the client.
  using result_fn = std::function<void(bool ok, const std::string& error)>;

  // Takes the configuration (kafka_role::events_producer); on failure
  // `error` says why and the producer produces nothing.
  event_producer(kafka_conf_ptr conf, std::string topic, std::string& error);
  ~event_producer(); // waits a little for what is queued, then stops

  event_producer(const event_producer&) = delete;
  event_producer& operator=(const event_producer&) = delete;

  // `done` runs exactly once, on the poll thread (or at once when the
  // record cannot even be queued).
  void produce(const std::string& key, std::string value, result_fn done);

  rd_kafka_t* handle() const { return handle_.get(); }

private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*);
  void poll_loop();

  kafka_handle handle_;
  std::string topic_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

} // namespace volley
