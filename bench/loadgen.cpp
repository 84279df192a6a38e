// bench/loadgen: publishes NDJSON events to Volley's TCP ingress and reads
// the acknowledgements.
//
// N connections, each with up to `window` lines sent but not yet answered
// (pipelined). One thread, epoll. Every event is
//   {"type":"<type>","data":{"t":<CLOCK_REALTIME ns at send>,"p":"xxx…"}}
// sized so that `data` is about --size bytes; the sink reads `t` back from the
// delivered body to measure publish->delivery latency.
//
// Stops by itself: after --events lines, or --duration seconds of sending,
// then at most --grace seconds waiting for outstanding answers. Prints one
// JSON object on stdout. With --ids every event carries an id and each answer
// is checked to name the id of the line it answers, in order.
//
// With --http N it speaks to the HTTP API instead (--port is the API's):
// `POST /v1/events` with N events per request as NDJSON, keep-alive,
// requests pipelined while the window (in events) has room; the JSON array
// answering each request is counted element by element.
//
// Usage: loadgen --port P [--host 127.0.0.1] [--conns 4] [--window 512]
//                [--events 100000] [--duration 60] [--grace 30] [--size 100]
//                [--rate 0 (events/s, 0 = as fast as acks allow)]
//                [--type bench.event] [--ids] [--http N]

#include "latency_histogram.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t mono_ns() { return clock_ns(CLOCK_MONOTONIC); }
uint64_t real_ns() { return clock_ns(CLOCK_REALTIME); }

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  int conns = 4;
  uint64_t window = 512;
  uint64_t events = 100000;
  double duration_s = 60;
  double grace_s = 30;
  size_t size = 100;
  double rate = 0;
  std::string type = "bench.event";
  bool ids = false;
  uint64_t http_batch = 0; // events per POST /v1/events; 0: NDJSON over TCP
};

struct connection {
  int fd = -1;
  int index = 0;
  std::string out;
  size_t out_off = 0;
  std::deque<uint64_t> sent_at;  // monotonic ns, one per unanswered line
  std::deque<uint64_t> sent_seq; // with --ids: the seq of each unanswered line
  std::string partial;           // answer bytes without their newline yet
                                 // (with --http: of the response being read)
  std::deque<uint64_t> batches;  // with --http: events in each unanswered request
  bool want_out = false;
  bool closed = false;
  uint64_t next_seq = 0;
};

struct totals {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t wrong_ids = 0;
  uint64_t duplicates = 0;
  std::string first_error;
  uint64_t first_send_ns = 0;
  uint64_t last_answer_ns = 0;
};

class loadgen {
public:
  explicit loadgen(options o) : opt_(std::move(o)) {
    size_t overhead = 32; // {"t":<19 digits>,"p":""} around the padding
    padding_.assign(opt_.size > overhead ? opt_.size - overhead : 0, 'x');
    std::random_device rd;
    run_tag_ = std::to_string(rd() % 1000000000u);
  }

  bool connect_all(std::string& error) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < opt_.conns; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(opt_.port));
      inet_pton(AF_INET, opt_.host.c_str(), &addr.sin_addr);
      if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        error =
          "cannot connect to " + opt_.host + ":" + std::to_string(opt_.port) + ": " + std::strerror(errno);
        if (fd >= 0)
          ::close(fd);
        return false;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
      auto c = std::make_unique<connection>();
      c->fd = fd;
      c->index = i;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u32 = static_cast<uint32_t>(i);
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      conns_.push_back(std::move(c));
    }
    return true;
  }

  void run() {
    start_ = mono_ns();
    const uint64_t send_deadline = start_ + static_cast<uint64_t>(opt_.duration_s * 1e9);
    uint64_t grace_deadline = 0;
    uint64_t next_progress = start_ + 5000000000ull;
    std::vector<epoll_event> events(256);
    size_t rr = 0;
    for (;;) {
      uint64_t now = mono_ns();
      bool may_send = now < send_deadline && t_.sent < opt_.events && open_connections() > 0;
      if (may_send) {
        uint64_t budget = opt_.events - t_.sent;
        if (opt_.rate > 0) {
          auto allowed = static_cast<uint64_t>(opt_.rate * static_cast<double>(now - start_) / 1e9) + 1;
          budget = allowed > t_.sent ? std::min(budget, allowed - t_.sent) : 0;
        }
        // Round-robin in slices so every connection gets its share.
        const uint64_t slice = opt_.http_batch > 0 ? opt_.http_batch : 256;
        for (size_t k = 0; k < conns_.size() && budget > 0; ++k) {
          auto& c = *conns_[(rr + k) % conns_.size()];
          budget -= fill(c, std::min<uint64_t>(budget, slice));
        }
        rr = (rr + 1) % conns_.size();
      } else if (grace_deadline == 0) {
        grace_deadline = now + static_cast<uint64_t>(opt_.grace_s * 1e9);
      }
      for (auto& c : conns_)
        if (!c->closed && c->out_off < c->out.size())
          write_some(*c);
      if (!may_send && (outstanding() == 0 || now >= grace_deadline || open_connections() == 0))
        break;
      if (now >= next_progress) {
        std::fprintf(stderr, "loadgen: %.0fs sent=%llu ok=%llu errors=%llu\n",
                     static_cast<double>(now - start_) / 1e9, (unsigned long long)t_.sent,
                     (unsigned long long)t_.ok, (unsigned long long)t_.errors);
        next_progress += 5000000000ull;
      }
      int timeout = 100;
      if (may_send && opt_.rate > 0)
        timeout = 1;
      else if (may_send && has_window_space())
        timeout = 0;
      int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        auto& e = events[static_cast<size_t>(i)];
        auto& c = *conns_[e.data.u32];
        if (c.closed)
          continue;
        if (e.events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
          read_some(c);
        if (!c.closed && (e.events & EPOLLOUT))
          write_some(c);
      }
    }
  }

  void report() const {
    uint64_t end = t_.last_answer_ns != 0 ? t_.last_answer_ns : mono_ns();
    double elapsed = t_.first_send_ns != 0 ? static_cast<double>(end - t_.first_send_ns) / 1e9 : 0;
    std::array<uint64_t, bench::latency_histogram::buckets> counts{};
    uint64_t n = 0, max_us = 0;
    ack_latency_.add_to(counts, n, max_us);
    using h = bench::latency_histogram;
    std::string err;
    for (char ch : t_.first_error.substr(0, 200))
      if (ch != '"' && ch != '\\' && ch >= ' ')
        err += ch;
    std::printf("{\"sent\":%llu,\"answered\":%llu,\"ok\":%llu,\"errors\":%llu,\"wrong_ids\":%llu,"
                "\"duplicates\":%llu,\"unanswered\":%llu,\"elapsed_s\":%.3f,\"events_per_s\":%.1f,"
                "\"ack_p50_ms\":%.3f,\"ack_p99_ms\":%.3f,\"ack_max_ms\":%.3f,\"size\":%zu,"
                "\"conns\":%d,\"window\":%llu,\"rate\":%.1f,\"http_batch\":%llu,\"first_error\":\"%s\"}\n",
                (unsigned long long)t_.sent, (unsigned long long)t_.answered, (unsigned long long)t_.ok,
                (unsigned long long)t_.errors, (unsigned long long)t_.wrong_ids,
                (unsigned long long)t_.duplicates, (unsigned long long)outstanding(), elapsed,
                elapsed > 0 ? static_cast<double>(t_.ok) / elapsed : 0.0,
                h::percentile(counts, n, 50) / 1000.0, h::percentile(counts, n, 99) / 1000.0,
                static_cast<double>(max_us) / 1000.0, opt_.size, opt_.conns, (unsigned long long)opt_.window,
                opt_.rate, (unsigned long long)opt_.http_batch, err.c_str());
  }

  bool failed() const { return t_.ok == 0 || t_.errors > 0 || t_.wrong_ids > 0 || outstanding() > 0; }

private:
  size_t open_connections() const {
    size_t n = 0;
    for (auto& c : conns_)
      n += c->closed ? 0 : 1;
    return n;
  }

  uint64_t outstanding() const {
    uint64_t n = 0;
    for (auto& c : conns_)
      n += c->closed ? 0 : c->sent_at.size();
    return n;
  }

  bool has_window_space() const {
    for (auto& c : conns_)
      if (!c->closed && c->sent_at.size() + std::max<uint64_t>(opt_.http_batch, 1) <= opt_.window)
        return true;
    return false;
  }

  // Appends up to `limit` lines within the window (with --http, one request
  // of `limit` events if the window has room for them); returns how many.
  uint64_t fill(connection& c, uint64_t limit) {
    if (c.closed)
      return 0;
    if (c.out_off > 0 && c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
    }
    if (opt_.http_batch == 0)
      return add_lines(c, c.out, limit);
    if (c.sent_at.size() + limit > opt_.window)
      return 0;
    std::string body;
    auto n = add_lines(c, body, limit);
    c.out += "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
             "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n";
    c.out += body;
    c.batches.push_back(n);
    return n;
  }

  uint64_t add_lines(connection& c, std::string& out, uint64_t limit) {
    uint64_t n = 0;
    auto mono = mono_ns();
    while (n < limit && c.sent_at.size() < opt_.window) {
      char t[32];
      std::snprintf(t, sizeof t, "%llu", (unsigned long long)real_ns());
      out += "{\"type\":\"";
      out += opt_.type;
      if (opt_.ids) {
        out += "\",\"id\":\"lg-";
        out += run_tag_;
        out += '-';
        out += std::to_string(c.index);
        out += '-';
        out += std::to_string(c.next_seq);
        c.sent_seq.push_back(c.next_seq);
      }
      ++c.next_seq;
      out += "\",\"data\":{\"t\":";
      out += t;
      out += ",\"p\":\"";
      out += padding_;
      out += "\"}}\n";
      c.sent_at.push_back(mono);
      ++n;
    }
    if (n > 0 && t_.first_send_ns == 0)
      t_.first_send_ns = mono;
    t_.sent += n;
    return n;
  }

  void write_some(connection& c) {
    while (c.out_off < c.out.size()) {
      ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN)
          close_conn(c, std::string{"send: "} + std::strerror(errno));
        break;
      }
      c.out_off += static_cast<size_t>(w);
    }
    if (c.closed)
      return;
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
    } else if (c.out_off > (1u << 20)) {
      c.out.erase(0, c.out_off);
      c.out_off = 0;
    }
    bool want = c.out_off < c.out.size();
    if (want != c.want_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
      ev.data.u32 = static_cast<uint32_t>(c.index);
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_out = want;
    }
  }

  void read_some(connection& c) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n == 0) {
        close_conn(c, "the daemon closed the connection");
        return;
      }
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN)
          close_conn(c, std::string{"recv: "} + std::strerror(errno));
        return;
      }
      std::string_view chunk{buf, static_cast<size_t>(n)};
      auto now = mono_ns();
      if (opt_.http_batch > 0) {
        c.partial.append(chunk);
        http_responses(c, now);
        chunk = {};
      }
      while (!chunk.empty()) {
        auto nl = chunk.find('\n');
        if (nl == std::string_view::npos) {
          c.partial.append(chunk);
          break;
        }
        if (c.partial.empty()) {
          on_answer(c, chunk.substr(0, nl), now);
        } else {
          c.partial.append(chunk.substr(0, nl));
          on_answer(c, c.partial, now);
          c.partial.clear();
        }
        chunk.remove_prefix(nl + 1);
      }
      if (static_cast<size_t>(n) < sizeof buf)
        return;
    }
  }

  void on_answer(connection& c, std::string_view line, uint64_t now) {
    if (c.sent_at.empty()) {
      ++t_.errors;
      if (t_.first_error.empty())
        t_.first_error = "answer without a request: " + std::string{line};
      return;
    }
    ack_latency_.record((now - c.sent_at.front()) / 1000);
    c.sent_at.pop_front();
    ++t_.answered;
    t_.last_answer_ns = now;
    if (line.rfind("{\"ok\":true", 0) == 0) {
      ++t_.ok;
      if (line.find("\"duplicate\":true") != std::string_view::npos)
        ++t_.duplicates;
    } else {
      ++t_.errors;
      if (t_.first_error.empty())
        t_.first_error = std::string{line};
    }
    if (opt_.ids && !c.sent_seq.empty()) {
      auto expect = "\"id\":\"lg-" + run_tag_ + "-" + std::to_string(c.index) + "-" +
                    std::to_string(c.sent_seq.front()) + "\"";
      c.sent_seq.pop_front();
      if (line.find(expect) == std::string_view::npos && line.rfind("{\"ok\":true", 0) == 0) {
        ++t_.wrong_ids;
        if (t_.first_error.empty())
          t_.first_error = "answer out of order: expected " + expect + ", got " + std::string{line};
      }
    }
  }

  // With --http: every whole response read so far, in request order.
  void http_responses(connection& c, uint64_t now) {
    for (;;) {
      auto head_end = c.partial.find("\r\n\r\n");
      if (head_end == std::string::npos)
        return;
      std::string head = c.partial.substr(0, head_end);
      for (char& ch : head)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
      size_t length = 0;
      auto at = head.find("\r\ncontent-length:");
      if (at != std::string::npos)
        length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
      if (c.partial.size() < head_end + 4 + length)
        return;
      on_http_answer(c, status, std::string_view{c.partial}.substr(head_end + 4, length), now);
      c.partial.erase(0, head_end + 4 + length);
    }
  }

  // One request's answer: a JSON array of one answer per event, in order.
  void on_http_answer(connection& c, int status, std::string_view body, uint64_t now) {
    if (c.batches.empty()) {
      ++t_.errors;
      if (t_.first_error.empty())
        t_.first_error = "a response without a request: " + std::string{body.substr(0, 200)};
      return;
    }
    const uint64_t n = c.batches.front();
    c.batches.pop_front();
    for (uint64_t i = 0; i < n && !c.sent_at.empty(); ++i) {
      ack_latency_.record((now - c.sent_at.front()) / 1000);
      c.sent_at.pop_front();
    }
    t_.answered += n;
    t_.last_answer_ns = now;
    auto count = [&](std::string_view needle) {
      uint64_t k = 0;
      for (size_t at = body.find(needle); at != std::string_view::npos; at = body.find(needle, at + 1))
        ++k;
      return k;
    };
    const uint64_t ok = status == 200 ? count("{\"ok\":true") : 0;
    t_.ok += ok;
    t_.duplicates += count("\"duplicate\":true");
    if (ok < n) {
      t_.errors += n - ok;
      if (t_.first_error.empty())
        t_.first_error = "HTTP " + std::to_string(status) + ": " + std::string{body.substr(0, 200)};
    }
    size_t pos = 0; // the ids of the batch, in order
    for (uint64_t i = 0; opt_.ids && i < n && !c.sent_seq.empty(); ++i) {
      auto expect = "\"id\":\"lg-" + run_tag_ + "-" + std::to_string(c.index) + "-" +
                    std::to_string(c.sent_seq.front()) + "\"";
      c.sent_seq.pop_front();
      auto at = body.find(expect, pos);
      if (at == std::string_view::npos) {
        ++t_.wrong_ids;
        if (t_.first_error.empty())
          t_.first_error = "answer out of order: expected " + expect;
        continue;
      }
      pos = at;
    }
  }

  void close_conn(connection& c, const std::string& why) {
    if (c.closed)
      return;
    if (!c.sent_at.empty()) {
      ++t_.errors;
      if (t_.first_error.empty())
        t_.first_error = why + " with " + std::to_string(c.sent_at.size()) + " lines unanswered";
    }
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.closed = true;
  }

  options opt_;
  std::string padding_;
  std::string run_tag_;
  int ep_ = -1;
  std::vector<std::unique_ptr<connection>> conns_;
  totals t_;
  uint64_t start_ = 0;
  bench::latency_histogram ack_latency_;
};

} // namespace

namespace {

int usage() {
  std::fprintf(stderr, "usage: loadgen --port P [--host 127.0.0.1] [--conns 4] [--window 512]\n"
                       "               [--events 100000] [--duration 60] [--grace 30] [--size 100]\n"
                       "               [--rate 0] [--type bench.event] [--ids] [--http N]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--ids") {
      o.ids = true;
      continue;
    }
    if (i + 1 >= argc)
      return usage();
    std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--conns")
      o.conns = std::max(1, std::atoi(v.c_str()));
    else if (a == "--window")
      o.window = std::max<uint64_t>(1, std::strtoull(v.c_str(), nullptr, 10));
    else if (a == "--events")
      o.events = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--duration")
      o.duration_s = std::atof(v.c_str());
    else if (a == "--grace")
      o.grace_s = std::atof(v.c_str());
    else if (a == "--size")
      o.size = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--rate")
      o.rate = std::atof(v.c_str());
    else if (a == "--type")
      o.type = v;
    else if (a == "--http")
      o.http_batch = std::strtoull(v.c_str(), nullptr, 10);
    else
      return usage();
  }
  if (o.port <= 0 || o.port > 65535)
    return usage();
  loadgen lg{o};
  std::string error;
  if (!lg.connect_all(error)) {
    std::fprintf(stderr, "loadgen: %s\n", error.c_str());
    return 1;
  }
  lg.run();
  lg.report();
  return lg.failed() ? 1 : 0;
}
