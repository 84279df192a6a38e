// volley-mock-kafka: librdkafka's mock Kafka cluster in a process of its own,
// so several volleyd processes (and tests) can try cluster mode over the real
// Kafka protocol on 127.0.0.1 without a Kafka install.
//
//   volley-mock-kafka [--brokers N] [--topic NAME:PARTITIONS]... [--debug]
//
// Prints one line "bootstrap=<servers>" once the brokers listen, then reads
// commands on stdin, one per line, and answers each with one line:
//   down   every broker drops its connections and refuses new ones
//   up     the brokers accept connections again
//   quit   stop
// It stops on quit, end of stdin, SIGTERM or SIGINT. The mock keeps
// everything in memory, at most 5 MiB per partition (older records are
// dropped), and does not compact.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct topic_spec {
  std::string name;
  int partitions = 0;
};

struct options {
  int brokers = 3;
  std::vector<topic_spec> topics;
  bool debug = false;
};

constexpr const char* usage =
  "usage: volley-mock-kafka [--brokers N] [--topic NAME:PARTITIONS]... [--debug]\n"
  "Runs librdkafka's mock Kafka cluster on 127.0.0.1 and prints bootstrap=<servers>.\n"
  "Commands on stdin, one per line: down, up, quit.\n";

[[noreturn]] void refuse(const std::string& message) {
  std::fprintf(stderr, "volley-mock-kafka: %s\n%s", message.c_str(), usage);
  std::exit(2);
}

// A whole positive number, or -1.
int positive(const std::string& text) {
  if (text.empty() || text.size() > 6 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  int value = std::stoi(text);
  return value > 0 ? value : -1;
}

options parse(int argc, char** argv) {
  options parsed;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--debug") {
      parsed.debug = true;
      continue;
    }
    if (arg != "--brokers" && arg != "--topic")
      refuse("unknown argument " + arg);
    if (i + 1 == argc)
      refuse(arg + " needs a value");
    std::string value = argv[++i];
    if (arg == "--brokers") {
      parsed.brokers = positive(value);
      if (parsed.brokers < 0)
        refuse("--brokers " + value + ": give a positive number");
      continue;
    }
    auto colon = value.rfind(':');
    int partitions = colon == std::string::npos ? -1 : positive(value.substr(colon + 1));
    if (colon == 0 || partitions < 0)
      refuse("--topic " + value + ": give NAME:PARTITIONS, e.g. volley.events:8");
    parsed.topics.push_back({value.substr(0, colon), partitions});
  }
  return parsed;
}

// Answers one command line; false once it is time to stop.
bool answer(rd_kafka_mock_cluster_t* cluster, const std::string& command) {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (command == "down")
    err = rd_kafka_mock_broker_set_down(cluster, -1); // -1: every broker
  else if (command == "up")
    err = rd_kafka_mock_broker_set_up(cluster, -1);
  else if (command == "quit") {
    std::printf("ok quit\n");
    std::fflush(stdout);
    return false;
  } else {
    std::printf("error: unknown command \"%s\" (commands: down, up, quit)\n", command.c_str());
    std::fflush(stdout);
    return true;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    std::printf("error: %s: %s\n", command.c_str(), rd_kafka_err2str(err));
  else
    std::printf("ok %s\n", command.c_str());
  std::fflush(stdout);
  return true;
}

// Serves stdin commands until quit, end of input or a stop signal.
void serve(rd_kafka_mock_cluster_t* cluster, int signal_fd) {
  std::string pending;
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0)
      continue; // EINTR
    if (fds[1].revents != 0)
      return;
    if (fds[0].revents == 0)
      continue;
    char buffer[1024];
    ssize_t got = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (got <= 0)
      return; // end of input: whoever started us is gone
    pending.append(buffer, static_cast<size_t>(got));
    for (auto newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n')) {
      std::string command = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      command.erase(command.find_last_not_of(" \r\t") + 1);
      command.erase(0, command.find_first_not_of(" \t"));
      if (!command.empty() && !answer(cluster, command))
        return;
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  options opts = parse(argc, argv);

  // Block the stop signals before librdkafka starts its threads (they
  // inherit the mask), so only the signalfd sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  int signal_fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signal_fd < 0)
    refuse("cannot create a signalfd");
  signal(SIGPIPE, SIG_IGN); // a reader that went away is seen as end of stdin

  // The mock cluster lives inside a client handle that is otherwise idle.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Without --debug only errors are logged: the idle handle would warn that
  // it has no bootstrap.servers.
  if (rd_kafka_conf_set(conf, "log_level", opts.debug ? "7" : "3", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK ||
      (opts.debug && rd_kafka_conf_set(conf, "debug", "mock", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK))
    refuse(errstr);
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (handle == nullptr)
    refuse(std::string("cannot start librdkafka: ") + errstr);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, opts.brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "volley-mock-kafka: cannot start %d mock brokers\n", opts.brokers);
    return 1;
  }
  for (const auto& topic : opts.topics) {
    auto err =
      rd_kafka_mock_topic_create(cluster, topic.name.c_str(), topic.partitions, std::min(opts.brokers, 3));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "volley-mock-kafka: cannot create topic %s: %s\n", topic.name.c_str(),
                   rd_kafka_err2str(err));
      return 1;
    }
  }
  std::printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);

  serve(cluster, signal_fd);

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  ::close(signal_fd);
  return 0;
}
