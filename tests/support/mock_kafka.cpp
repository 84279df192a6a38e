#include "tests/support/mock_kafka.hpp"

#include "cluster/partition_reader.hpp"
#include "cluster/topic_partitions.hpp"
#include "tests/support/wait.hpp"

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace volley::test {
namespace {

using steady = std::chrono::steady_clock;

constexpr int message_timeout_ms = 10000;

kafka_handle make_client(rd_kafka_type_t type,
                         const std::vector<std::pair<const char*, std::string>>& settings,
                         void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*), void* opaque) {
  kafka_conf_ptr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [name, value] : settings)
    if (rd_kafka_conf_set(conf.get(), name, value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
      throw std::runtime_error(std::string("mock_kafka client: ") + errstr);
  if (on_delivery != nullptr)
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  kafka_handle handle(rd_kafka_new(type, conf.get(), errstr, sizeof(errstr)));
  if (!handle)
    throw std::runtime_error(std::string("mock_kafka client: ") + errstr);
  conf.release(); // the client owns it now
  return handle;
}

} // namespace

mock_kafka::mock_kafka(const std::vector<kafka_topic_spec>& topics, int brokers) {
  std::vector<std::string> args = {VOLLEY_MOCK_KAFKA_PATH, "--brokers", std::to_string(brokers)};
  for (const auto& topic : topics) {
    args.push_back("--topic");
    args.push_back(topic.name + ":" + std::to_string(topic.partitions));
  }
  // Built before fork(): the child of a threaded process may only exec.
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("mock_kafka: pipe failed");
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("mock_kafka: fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  to_child_ = in[1];
  from_child_ = out[0];
  try {
    std::string line = read_line(std::chrono::seconds(30));
    const std::string prefix = "bootstrap=";
    if (line.compare(0, prefix.size(), prefix) != 0)
      throw std::runtime_error("mock_kafka: expected a bootstrap line, got: " + line);
    bootstrap_ = line.substr(prefix.size());
  } catch (...) {
    stop(); // no destructor runs for a constructor that throws
    throw;
  }
}

mock_kafka::~mock_kafka() {
  // Clients first, while the brokers still answer their goodbyes.
  producer_.reset();
  reader_.reset();
  stop();
}

void mock_kafka::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (to_child_ >= 0)
    ::close(to_child_);
  if (from_child_ >= 0)
    ::close(from_child_);
  to_child_ = from_child_ = -1;
}

std::string mock_kafka::read_line(std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    auto newline = unread_.find('\n');
    if (newline != std::string::npos) {
      std::string line = unread_.substr(0, newline);
      unread_.erase(0, newline + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0)
      throw std::runtime_error("mock_kafka: no answer from volley-mock-kafka");
    pollfd fd = {from_child_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buffer[512];
    ssize_t got = ::read(from_child_, buffer, sizeof(buffer));
    if (got <= 0)
      throw std::runtime_error("mock_kafka: volley-mock-kafka exited");
    unread_.append(buffer, static_cast<size_t>(got));
  }
}

std::string mock_kafka::command(const std::string& line) {
  std::string text = line + "\n";
  if (::write(to_child_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("mock_kafka: cannot write to volley-mock-kafka");
  std::string answer = read_line(std::chrono::seconds(10));
  if (answer != "ok " + line)
    throw std::runtime_error("mock_kafka: " + line + " answered: " + answer);
  return answer;
}

void mock_kafka::down() { command("down"); }
void mock_kafka::up() { command("up"); }

void mock_kafka::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<mock_kafka*>(opaque);
  auto id = reinterpret_cast<uintptr_t>(message->_private);
  kafka_delivery& delivery = self->deliveries_[id];
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
    delivery.error = rd_kafka_err2str(message->err);
  delivery.partition = message->partition;
  delivery.offset = message->offset;
}

kafka_delivery mock_kafka::produce(const std::string& topic, const std::string& key,
                                   const std::optional<std::string>& value,
                                   std::optional<int32_t> partition) {
  return produce_all(topic, {{key, value, partition}}).front();
}

std::vector<kafka_delivery> mock_kafka::produce_all(const std::string& topic,
                                                    const std::vector<record_to_write>& records) {
  if (!producer_)
    producer_ = make_client(RD_KAFKA_PRODUCER,
                            {{"bootstrap.servers", bootstrap_},
                             {"acks", "all"},
                             {"linger.ms", "5"},
                             {"message.timeout.ms", std::to_string(message_timeout_ms)}},
                            on_delivery, this);
  std::vector<kafka_delivery> out(records.size());
  std::vector<uint64_t> ids(records.size(), 0);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    uint64_t id = ++next_delivery_;
    void* payload = r.value ? const_cast<char*>(r.value->data()) : nullptr;
    size_t payload_size = r.value ? r.value->size() : 0;
    for (;;) {
      auto err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_PARTITION(r.partition.value_or(RD_KAFKA_PARTITION_UA)),
        RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(payload, payload_size),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(id))), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_.get(), 10); // the queue drains as answers come
        continue;
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        out[i] = {std::string("cannot queue it: ") + rd_kafka_err2str(err), -1, -1};
      else
        ids[i] = id;
      break;
    }
  }
  // librdkafka always reports within message.timeout.ms; the margin is for
  // a loaded machine.
  auto all_answered = [&] {
    rd_kafka_poll(producer_.get(), 0);
    for (auto id : ids)
      if (id != 0 && deliveries_.count(id) == 0)
        return false;
    return true;
  };
  bool answered = wait_until(all_answered, std::chrono::milliseconds(message_timeout_ms + 20000));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == 0)
      continue;
    auto it = deliveries_.find(ids[i]);
    if (it == deliveries_.end()) {
      out[i] = {answered ? "no delivery report" : "no delivery report in time", -1, -1};
      continue;
    }
    out[i] = it->second;
    deliveries_.erase(it);
  }
  return out;
}

std::vector<kafka_record> mock_kafka::read_all(const std::string& topic, std::chrono::milliseconds timeout) {
  if (!reader_)
    reader_ = make_client(RD_KAFKA_CONSUMER,
                          {{"bootstrap.servers", bootstrap_},
                           {"enable.partition.eof", "true"},
                           {"auto.offset.reset", "earliest"}},
                          nullptr, this);
  auto deadline = steady::now() + timeout;
  auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()); };
  partition_count partitions = count_partitions(reader_.get(), topic, left());
  if (!partitions.error.empty())
    throw std::runtime_error("mock_kafka: " + partitions.error);
  std::vector<kafka_record> records;
  for (int32_t partition = 0; partition < partitions.count; ++partition) {
    auto read = read_partition(reader_.get(), topic, partition, RD_KAFKA_OFFSET_BEGINNING, left(),
                               [&](const kafka_record& record) { records.push_back(record); });
    if (!read.error.empty())
      throw std::runtime_error("mock_kafka: " + read.error);
  }
  return records;
}

} // namespace volley::test
