// `volley publish`: NDJSON on stdin to the ingress, acknowledgements to
// stdout. Lines are pipelined — sending never waits for an ack — because the
// daemon answers in order and a round trip per line would cap throughput at
// a few thousand lines per second.

#include "cli/ack_line.hpp"
#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/ingress_client.hpp"
#include "cli/line_splitter.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace volley::cli {

namespace {

using steady = std::chrono::steady_clock;

// Stop reading stdin while this much is waiting to be sent: the daemon's
// credit window, not our memory, should decide the pace.
constexpr size_t max_unsent_bytes = 1 << 20;
constexpr size_t read_chunk_bytes = 1 << 16;

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

class ndjson_publisher {
public:
  ndjson_publisher(ingress_socket socket, ingress_endpoint endpoint, std::chrono::milliseconds idle_timeout)
    : socket_(std::move(socket)), endpoint_(std::move(endpoint)), idle_timeout_(idle_timeout) {}

  // Returns the exit code; throws connection_error when the daemon is lost.
  int run() {
    last_progress_ = steady::now();
    while (!finished())
      poll_once();
    std::fflush(stdout);
    if (refused_ == 0)
      return exit_ok;
    std::fprintf(stderr, "volley publish: %llu of %llu lines refused (see their acknowledgements)\n",
                 static_cast<unsigned long long>(refused_), static_cast<unsigned long long>(sent_));
    return exit_refused;
  }

private:
  bool finished() const { return input_done_ && unsent() == 0 && acked_ >= sent_; }
  size_t unsent() const { return out_.size() - out_offset_; }
  bool waiting_on_daemon() const { return unsent() > 0 || acked_ < sent_; }

  void poll_once() {
    pollfd fds[2] = {{socket_.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (unsent() > 0)
      fds[0].events |= POLLOUT;
    const bool want_input = !input_done_ && unsent() < max_unsent_bytes;
    const int count = want_input ? 2 : 1;

    int timeout_ms = -1; // waiting on stdin alone may take forever (a terminal)
    if (waiting_on_daemon()) {
      const auto idle = steady::now() - last_progress_;
      if (idle >= idle_timeout_)
        throw stalled();
      timeout_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout_ - idle).count() + 1);
    }
    if (::poll(fds, static_cast<nfds_t>(count), timeout_ms) < 0) {
      if (errno == EINTR)
        return;
      throw connection_error(std::string("poll failed: ") + std::strerror(errno));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
      read_acks();
    if (fds[0].revents & POLLOUT)
      send_pending();
    if (count == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      read_input();
  }

  void read_input() {
    char buffer[read_chunk_bytes];
    const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN)
        return;
      throw std::runtime_error(std::string("cannot read stdin: ") + std::strerror(errno));
    }
    if (got == 0) {
      // A last line without '\n' still counts.
      queue_line(input_.remainder());
      input_.clear();
      // No half-close here: a server may treat EOF as "drop the connection"
      // before its last acks are out, so we close only once all are in.
      input_done_ = true;
      return;
    }
    input_.append(buffer, static_cast<size_t>(got));
    input_.drain([this](std::string_view line) { queue_line(line); });
    send_pending(); // often completes without another poll round
  }

  void queue_line(std::string_view line) {
    if (is_blank(line))
      return;
    if (out_offset_ > 0 && out_offset_ == out_.size()) {
      out_.clear();
      out_offset_ = 0;
    }
    out_.append(line.data(), line.size());
    out_ += '\n';
    ++sent_;
  }

  void send_pending() {
    while (unsent() > 0) {
      const ssize_t sent =
        ::send(socket_.fd(), out_.data() + out_offset_, unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) {
        out_offset_ += static_cast<size_t>(sent);
        last_progress_ = steady::now();
        continue;
      }
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        break;
      throw lost(std::strerror(errno));
    }
    if (out_offset_ == out_.size()) {
      out_.clear();
      out_offset_ = 0;
    }
  }

  void read_acks() {
    char buffer[read_chunk_bytes];
    for (;;) {
      const ssize_t got = ::recv(socket_.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (got > 0) {
        last_progress_ = steady::now();
        acks_.append(buffer, static_cast<size_t>(got));
        acks_.drain([this](std::string_view ack) { print_ack(ack); });
        continue;
      }
      if (got == 0) {
        std::fflush(stdout);
        if (!finished())
          throw lost("the daemon closed the connection");
        return;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        break;
      throw lost(std::strerror(errno));
    }
    std::fflush(stdout); // acks show up as they arrive, one flush per batch
  }

  void print_ack(std::string_view ack) {
    std::fwrite(ack.data(), 1, ack.size(), stdout);
    std::fputc('\n', stdout);
    ++acked_;
    if (!reply_is_ok(ack))
      ++refused_;
  }

  connection_error lost(const std::string& why) const {
    return connection_error("lost the connection to the daemon at " + endpoint_.describe() + " (" + why +
                            ") after " + progress() +
                            "; lines without an acknowledgement may not have been accepted: "
                            "resend them (an \"id\" on each event makes resending safe)");
  }

  connection_error stalled() const {
    return connection_error("no progress from the daemon at " + endpoint_.describe() + " for " +
                            std::to_string(idle_timeout_.count() / 1000) + " s after " + progress() +
                            " (is it overloaded or stuck? see its log; "
                            "raise --timeout to wait longer)");
  }

  std::string progress() const {
    return std::to_string(acked_) + " of " + std::to_string(sent_) + " acknowledgements";
  }

  ingress_socket socket_;
  ingress_endpoint endpoint_;
  std::chrono::milliseconds idle_timeout_;
  steady::time_point last_progress_;

  line_splitter input_; // stdin
  line_splitter acks_;  // socket
  std::string out_;     // lines queued for the socket
  size_t out_offset_ = 0;
  bool input_done_ = false;
  uint64_t sent_ = 0;
  uint64_t acked_ = 0;
  uint64_t refused_ = 0;
};

int run_publish(const arguments& args) {
  const auto options = parse_options(args, publish_command.options);
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() +
                      "' (events are read from stdin)");
  const ingress_endpoint endpoint = endpoint_from_options(options);
  const auto timeout =
    std::chrono::seconds(parse_integer(options.value_or("timeout", "60"), "--timeout", 1, 86400));
  ndjson_publisher publisher(ingress_socket::connect(endpoint, timeout), endpoint, timeout);
  return publisher.run();
}

} // namespace

const command publish_command{
  "publish",
  "send NDJSON events from stdin to the daemon and print each acknowledgement",
  "usage: volley publish [--host H] [--port P] [--timeout SECONDS]\n"
  "\n"
  "Reads one JSON event per line from stdin, e.g.\n"
  "  {\"type\":\"order.created\",\"data\":{\"order\":42},\"id\":\"order-42\"}\n"
  "sends them to the daemon's ingress (default 127.0.0.1:7400) and prints the\n"
  "daemon's acknowledgement line for each, in order. Blank lines are skipped.\n"
  "\n"
  "  --host H           ingress host (default 127.0.0.1)\n"
  "  --port P           ingress port (default 7400)\n"
  "  --timeout SECONDS  give up when the daemon makes no progress this long (default 60)\n"
  "\n"
  "exit status: 0 all accepted, 1 some refused, 2 connection or usage error\n",
  run_publish,
  {{"host"}, {"port"}, {"timeout"}}};

} // namespace volley::cli
