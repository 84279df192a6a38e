#pragma once
// Runs volley-mock-kafka (librdkafka's mock cluster in a process of its own)
// for a test: real Kafka protocol on 127.0.0.1, brokers that can be taken
// down and up, and plain clients to write records and read topics back.

#include "cluster/kafka_ptr.hpp"
#include "cluster/kafka_record.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace volley::test {

struct kafka_topic_spec {
  std::string name;
  int partitions = 1;
};

struct kafka_delivery {
  std::string error; // empty: the brokers acknowledged it
  int32_t partition = -1;
  int64_t offset = -1;
};

class mock_kafka {
public:
  // Starts the process and waits for its bootstrap line; throws if it fails.
  explicit mock_kafka(const std::vector<kafka_topic_spec>& topics, int brokers = 3);
  ~mock_kafka(); // SIGKILL and reap

  mock_kafka(const mock_kafka&) = delete;
  mock_kafka& operator=(const mock_kafka&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }

  // Every broker refuses connections / accepts them again; throw unless the
  // process answers "ok".
  void down();
  void up();

  // Writes one record (no value: a tombstone) and waits for the broker's
  // answer, at most the producer's message.timeout.ms (10 s).
  kafka_delivery produce(const std::string& topic, const std::string& key,
                         const std::optional<std::string>& value,
                         std::optional<int32_t> partition = std::nullopt);

  // Writes many records at once (no value: a tombstone) and waits for every
  // broker answer; the deliveries come back in the records' order.
  struct record_to_write {
    std::string key;
    std::optional<std::string> value;
    std::optional<int32_t> partition;
  };
  std::vector<kafka_delivery> produce_all(const std::string& topic,
                                          const std::vector<record_to_write>& records);

  // Every record of every partition from the log start to the high
  // watermark, by partition then offset; throws if that cannot be read
  // within `timeout`.
  std::vector<kafka_record> read_all(const std::string& topic,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
  void stop();
  std::string command(const std::string& line);
  std::string read_line(std::chrono::milliseconds timeout);
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);

  int pid_ = -1;
  int to_child_ = -1;   // its stdin
  int from_child_ = -1; // its stdout
  std::string unread_;  // read from its stdout, not yet a whole line
  std::string bootstrap_;
  kafka_handle producer_; // made on first use
  kafka_handle reader_;
  uint64_t next_delivery_ = 0;
  std::map<uint64_t, kafka_delivery> deliveries_; // answered, by produce() call
};

} // namespace volley::test
