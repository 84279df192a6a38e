#include "cluster/partition_reader.hpp"

#include "cluster/kafka_ptr.hpp"

#include <algorithm>

namespace volley {
namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

} // namespace

partition_read read_partition(rd_kafka_t* reader, const std::string& topic, int32_t partition,
                              int64_t from_offset, std::chrono::milliseconds timeout,
                              const std::function<void(const kafka_record&)>& on_record) {
  auto deadline = steady::now() + timeout;
  std::string where = topic + " [" + std::to_string(partition) + "]";
  partition_read result;
  int64_t low = 0;
  int64_t high = 0;
  auto err =
    rd_kafka_query_watermark_offsets(reader, topic.c_str(), partition, &low, &high, remaining_ms(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result.error = where + ": cannot read its offsets: " + rd_kafka_err2str(err);
    return result;
  }
  if (from_offset > high) {
    result.error = where + ": offset " + std::to_string(from_offset) + " is past its end (" +
                   std::to_string(high) + "): the topic was recreated since that offset was recorded";
    return result;
  }
  int64_t start = from_offset == RD_KAFKA_OFFSET_BEGINNING ? low : std::max(from_offset, low);
  result.next_offset = start;
  if (start >= high)
    return result;

  // The simple (legacy) consumer API: in librdkafka 2.0 rd_kafka_assign()
  // and rd_kafka_consumer_poll() need a group.id, and the reader has none.
  kafka_topic handle(rd_kafka_topic_new(reader, topic.c_str(), nullptr));
  if (!handle || rd_kafka_consume_start(handle.get(), partition, start) != 0) {
    result.error = where + ": cannot start reading it: " + rd_kafka_err2str(rd_kafka_last_error());
    return result;
  }
  while (result.next_offset < high) {
    if (steady::now() >= deadline) {
      result.error = where + ": read up to offset " + std::to_string(result.next_offset) + " of " +
                     std::to_string(high) + " within " + std::to_string(timeout.count()) + " ms";
      break;
    }
    kafka_message message(rd_kafka_consume(handle.get(), partition, std::min(remaining_ms(deadline), 100)));
    if (!message)
      continue; // nothing within the poll interval
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The end, though compaction may have removed the offsets below it.
      result.next_offset = std::max(result.next_offset, message->offset);
      break;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result.error = where + ": " + rd_kafka_message_errstr(message.get());
      break;
    }
    on_record(record_of(*message));
    ++result.records;
    result.next_offset = message->offset + 1;
  }
  rd_kafka_consume_stop(handle.get(), partition);
  return result;
}

} // namespace volley
