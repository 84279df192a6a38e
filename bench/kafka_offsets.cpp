// bench/kafka_offsets: each partition's log start and end offset of some
// topics, as the brokers report them.
//
// The cluster scenarios run on librdkafka's mock cluster, which keeps at
// most 5 MiB per partition and drops the oldest records beyond that: a
// changelog that lost its start would look like volleyd losing deliveries.
// A log start above 0 says the mock dropped records (the run was too big
// for it); the end offsets say how many records each partition holds.
//
// Usage: kafka_offsets --brokers HOST:PORT[,...] --topic NAME [--topic NAME]...
// Prints one JSON object: {"<topic>": [[start, end], ...], ...} (by partition),
// or {"error": "..."} and exits 1.

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int timeout_ms = 10000;

struct handle_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using handle = std::unique_ptr<rd_kafka_t, handle_deleter>;

int fail(const std::string& what) {
  std::string quoted;
  for (char c : what)
    quoted += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string{c};
  std::printf("{\"error\":\"%s\"}\n", quoted.c_str());
  return 1;
}

// Partitions of `topic`, from the brokers' metadata; -1 with `error` set.
int partition_count(rd_kafka_t* rk, const std::string& topic, std::string& error) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
  rd_kafka_topic_destroy(t);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = "metadata of " + topic + ": " + rd_kafka_err2str(err);
    return -1;
  }
  int count = -1;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    count = md->topics[0].partition_cnt;
  else
    error = "no topic " + topic;
  rd_kafka_metadata_destroy(md);
  return count;
}

} // namespace

int main(int argc, char** argv) {
  std::string brokers;
  std::vector<std::string> topics;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--brokers")
      brokers = argv[i + 1];
    else if (a == "--topic")
      topics.push_back(argv[i + 1]);
    else
      return fail("unknown argument " + a);
  }
  if (brokers.empty() || topics.empty())
    return fail("usage: kafka_offsets --brokers HOST:PORT --topic NAME [--topic NAME]...");

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return fail(errstr);
  }
  handle rk{rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr)};
  if (!rk)
    return fail(errstr);

  std::string out = "{";
  for (const auto& topic : topics) {
    std::string error;
    int n = partition_count(rk.get(), topic, error);
    if (n < 0)
      return fail(error);
    out += (out.size() > 1 ? ",\"" : "\"") + topic + "\":[";
    for (int p = 0; p < n; ++p) {
      int64_t low = -1, high = -1;
      auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, timeout_ms);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return fail("offsets of " + topic + " partition " + std::to_string(p) + ": " + rd_kafka_err2str(err));
      out += (p ? ",[" : "[") + std::to_string(low) + "," + std::to_string(high) + "]";
    }
    out += "]";
  }
  std::printf("%s}\n", out.c_str());
  return 0;
}
