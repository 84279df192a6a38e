#pragma once
// Reads one partition from an offset to its end: how a node restores a
// partition's state from the changelog, and how tests check a changelog.

#include "cluster/kafka_record.hpp"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace volley {

struct partition_read {
  std::string error;       // empty: read to the end
  int64_t next_offset = 0; // where a later read continues
  uint64_t records = 0;    // records handed to on_record
};

// Reads `topic`/`partition` from `from_offset` (RD_KAFKA_OFFSET_BEGINNING
// for all of it) up to the high watermark found when it starts, through
// `reader`, a consumer made with kafka_role::restore_reader and used by one
// thread at a time. Records below the log start (gone to retention) are
// skipped. An offset past the end is an error: the topic is not the one the
// offset was read from. Blocks up to `timeout`: run it off the scheduler.
partition_read read_partition(rd_kafka_t* reader, const std::string& topic, int32_t partition,
                              int64_t from_offset, std::chrono::milliseconds timeout,
                              const std::function<void(const kafka_record&)>& on_record);

} // namespace volley
