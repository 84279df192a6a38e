// bench/sink: a minimal HTTP/1.1 responder for the benchmark harness.
//
// Answers every request with "200 OK, Content-Length: 0", keep-alive, from
// N epoll threads (SO_REUSEPORT, one listener each per address). With
// --hosts N it listens on 127.0.0.1 .. 127.0.0.N (all loopback), so a client
// can spread its connections over N hosts as real subscribers are. It counts
// arrivals and, when a body carries `"data":{"t":<ns>` (CLOCK_REALTIME at
// publish time, as bench/loadgen writes it), records publish->arrival
// latency of the requests it answers 200. Bodies are skipped, not buffered,
// so 100 KB payloads cost no copies.
//
// Endpoints that are slow or struggle:
//   --delay-ms D       answer D ms after the request arrived: a timer wheel
//                      on each epoll thread holds the owed answers, so
//                      thousands of waiting requests cost the sink nothing
//                      but a slot entry
//   --fail-percent P   answer P % of requests 503 (a seeded random draw per
//                      request, --seed S)
//   --capacity C --work-ms W
//                      an endpoint with C workers: a request that finds C
//                      others open is answered 429 at once; the others are
//                      answered after W ms (--work-ms is --delay-ms by the
//                      name this mode has; held on the same wheel)
// They combine, with --hosts too: a 503 waits as long as a 200 would, and
// with --capacity a worker's answer is a 503 P % of the time.
//
// With --track-ids it remembers the webhook-id of every request it answers
// 200 (one shared table: for completeness checks, not for full-speed runs),
// so a harness can tell missing deliveries from repeated ones.
//
//   GET /__stats  -> one JSON object (requests, accepted connections and
//                    answers by status since start or the last reset;
//                    "open"/"open_peak": answers held now / at most, with
//                    --capacity the one answered 429 included; with
//                    --track-ids "distinct" ids answered 200 and "repeats",
//                    200s for an id answered 200 before)
//   GET /__ids    -> with --track-ids, one line per id answered 200:
//                    "<webhook-id> <first 200, CLOCK_REALTIME ns> <200s>"
//   GET /__reset  -> zero the counters (other threads within ~50 ms) and
//                    forget the ids
//
// Usage: sink --port P [--host 127.0.0.1] [--hosts 1] [--threads 1] [--delay-ms 0]
//             [--fail-percent P] [--seed S] [--capacity C --work-ms W]
//             [--track-ids 1] [--max-seconds 7200]

#include "latency_histogram.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr size_t read_chunk = 256 * 1024;
constexpr size_t max_header_bytes = 64 * 1024;
constexpr size_t body_probe_bytes = 512; // where "data":{"t": is looked for
constexpr std::string_view ok_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view unavailable_response =
  "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view busy_response = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n";

// How the sink misbehaves (see the top of the file); zero: it does not.
struct failure_modes {
  int fail_percent = 0;
  uint64_t seed = 1;
  int64_t capacity = 0;
};
failure_modes g_modes;
std::atomic<int64_t> g_open{0};      // answers held on the wheels
std::atomic<int64_t> g_open_peak{0}; // most open at once, with --capacity a refused one included

uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000ull + static_cast<uint64_t>(ts.tv_nsec) / 1000000ull;
}

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Counters of one worker thread; only that thread writes them.
struct alignas(64) worker_stats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections{0}; // accepted
  std::atomic<uint64_t> body_bytes{0};
  std::atomic<uint64_t> first_ns{0};
  std::atomic<uint64_t> last_ns{0};
  std::atomic<uint64_t> ok{0};     // answered 200
  std::atomic<uint64_t> failed{0}; // answered 503 (--fail-percent)
  std::atomic<uint64_t> busy{0};   // answered 429 (--capacity)
  std::atomic<uint64_t> ok_first_ns{0};
  std::atomic<uint64_t> ok_last_ns{0};
  std::atomic<uint64_t> epoch{0};
  bench::latency_histogram latency;

  void bump(std::atomic<uint64_t>& v, uint64_t by) {
    v.store(v.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  void clear(uint64_t new_epoch) {
    requests.store(0, std::memory_order_relaxed);
    connections.store(0, std::memory_order_relaxed);
    body_bytes.store(0, std::memory_order_relaxed);
    first_ns.store(0, std::memory_order_relaxed);
    last_ns.store(0, std::memory_order_relaxed);
    ok.store(0, std::memory_order_relaxed);
    failed.store(0, std::memory_order_relaxed);
    busy.store(0, std::memory_order_relaxed);
    ok_first_ns.store(0, std::memory_order_relaxed);
    ok_last_ns.store(0, std::memory_order_relaxed);
    latency.clear();
    epoch.store(new_epoch, std::memory_order_release);
  }
};

// --track-ids: every webhook-id answered 200, shared by the threads.
struct id_seen {
  uint64_t first_ns = 0;
  uint64_t oks = 0;
};
class id_table {
public:
  void record(const std::string& id, uint64_t now) {
    std::lock_guard<std::mutex> guard{mutex_};
    auto& seen = ids_[id];
    if (seen.oks++ == 0)
      seen.first_ns = now;
    else
      ++repeats_;
  }
  void clear() {
    std::lock_guard<std::mutex> guard{mutex_};
    ids_.clear();
    repeats_ = 0;
  }
  std::pair<uint64_t, uint64_t> counts() { // distinct, repeats
    std::lock_guard<std::mutex> guard{mutex_};
    return {ids_.size(), repeats_};
  }
  std::string dump() {
    std::lock_guard<std::mutex> guard{mutex_};
    std::string out;
    out.reserve(ids_.size() * 48);
    for (const auto& [id, seen] : ids_)
      out += id + ' ' + std::to_string(seen.first_ns) + ' ' + std::to_string(seen.oks) + '\n';
    return out;
  }

private:
  std::mutex mutex_;
  std::unordered_map<std::string, id_seen> ids_;
  uint64_t repeats_ = 0;
};
bool g_track_ids = false;
id_table g_ids;

std::atomic<uint64_t> g_epoch{0};
uint64_t g_start_ns = 0;
std::vector<std::unique_ptr<worker_stats>> g_stats;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size())
    return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char a = line[i];
    if (a >= 'A' && a <= 'Z')
      a = static_cast<char>(a - 'A' + 'a');
    if (a != name[i])
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string stats_json() {
  std::array<uint64_t, bench::latency_histogram::buckets> counts{};
  uint64_t total = 0, max_us = 0, requests = 0, connections = 0, bytes = 0, first = 0, last = 0;
  uint64_t ok = 0, failed = 0, busy = 0, ok_first = 0, ok_last = 0;
  auto earliest = [](uint64_t& into, uint64_t v) {
    if (v != 0 && (into == 0 || v < into))
      into = v;
  };
  auto epoch = g_epoch.load();
  for (auto& w : g_stats) {
    if (w->epoch.load(std::memory_order_acquire) != epoch)
      continue; // not reset yet: counts belong to the previous epoch
    requests += w->requests.load(std::memory_order_relaxed);
    connections += w->connections.load(std::memory_order_relaxed);
    bytes += w->body_bytes.load(std::memory_order_relaxed);
    earliest(first, w->first_ns.load(std::memory_order_relaxed));
    last = std::max(last, w->last_ns.load(std::memory_order_relaxed));
    ok += w->ok.load(std::memory_order_relaxed);
    failed += w->failed.load(std::memory_order_relaxed);
    busy += w->busy.load(std::memory_order_relaxed);
    earliest(ok_first, w->ok_first_ns.load(std::memory_order_relaxed));
    ok_last = std::max(ok_last, w->ok_last_ns.load(std::memory_order_relaxed));
    w->latency.add_to(counts, total, max_us);
  }
  using h = bench::latency_histogram;
  auto [distinct, repeats] = g_track_ids ? g_ids.counts() : std::pair<uint64_t, uint64_t>{0, 0};
  char buf[1024];
  std::snprintf(
    buf, sizeof buf,
    "{\"count\":%llu,\"connections\":%llu,\"body_bytes\":%llu,\"start_ns\":%llu,"
    "\"first_ns\":%llu,\"last_ns\":%llu,\"now_ns\":%llu,\"lat_n\":%llu,\"p50_us\":%.1f,"
    "\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%llu,\"ok\":%llu,"
    "\"failed\":%llu,\"busy\":%llu,\"ok_first_ns\":%llu,\"ok_last_ns\":%llu,"
    "\"open\":%lld,\"open_peak\":%lld,\"distinct\":%llu,\"repeats\":%llu}",
    (unsigned long long)requests, (unsigned long long)connections, (unsigned long long)bytes,
    (unsigned long long)g_start_ns, (unsigned long long)first, (unsigned long long)last,
    (unsigned long long)realtime_ns(), (unsigned long long)total, h::percentile(counts, total, 50),
    h::percentile(counts, total, 90), h::percentile(counts, total, 99), h::percentile(counts, total, 99.9),
    (unsigned long long)max_us, (unsigned long long)ok, (unsigned long long)failed, (unsigned long long)busy,
    (unsigned long long)ok_first, (unsigned long long)ok_last, (long long)g_open.load(),
    (long long)g_open_peak.load(), (unsigned long long)distinct, (unsigned long long)repeats);
  return buf;
}

std::string control_response(std::string_view body, std::string_view type = "application/json") {
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: ";
  out += type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

enum class answer { ok, unavailable, busy };

std::string_view text_of(answer a) {
  switch (a) {
    case answer::ok:
      return ok_response;
    case answer::unavailable:
      return unavailable_response;
    case answer::busy:
      break;
  }
  return busy_response;
}

struct connection {
  int fd = -1;
  uint64_t serial = 0; // tells a connection from a later one on the same fd
  // Parsing state of the current request.
  bool in_body = false;
  std::string head; // header bytes so far
  size_t body_left = 0;
  size_t body_seen = 0;
  std::string body_probe; // first bytes of the body
  std::string path;
  std::string webhook_id; // with --track-ids
  std::string out;        // responses not yet written
  bool want_out = false;  // EPOLLOUT armed
  // Answers owed in request order (HTTP/1.1 answers in order). The first is
  // always held on the wheel; a 429 given at once waits behind held ones.
  struct owed_answer {
    answer kind;
    bool held;
  };
  std::deque<owed_answer> owed;
};

// Answers owed after a fixed delay, in 1 ms slots. The wheel has over twice
// as many slots as the delay has milliseconds, so an entry fires on the
// first pass of its slot even when the thread falls behind by up to the
// delay: adding and firing are O(1), however many answers are owed.
class timer_wheel {
public:
  struct entry {
    int fd;
    uint64_t serial;
  };

  timer_wheel(uint64_t delay_ms, uint64_t now_ms) : delay_ms_(delay_ms), next_tick_(now_ms) {
    size_t size = 1024;
    while (size <= 2 * (delay_ms + 1))
      size <<= 1;
    slots_.resize(size);
  }

  void add(entry e, uint64_t now_ms) {
    if (pending_ == 0)
      next_tick_ = now_ms; // nothing owed: the hand jumps to now
    slots_[(now_ms + delay_ms_) & (slots_.size() - 1)].push_back(e);
    ++pending_;
  }

  // Calls f(entry) for every entry due by now_ms, in arrival order.
  template <class F>
  void fire(uint64_t now_ms, F&& f) {
    for (; next_tick_ <= now_ms; ++next_tick_) {
      auto& slot = slots_[next_tick_ & (slots_.size() - 1)];
      if (slot.empty())
        continue;
      fired_.swap(slot); // f may add to the wheel; never to this slot (delay >= 1)
      pending_ -= fired_.size();
      for (const auto& e : fired_)
        f(e);
      fired_.clear();
    }
  }

  size_t pending() const { return pending_; }

private:
  uint64_t delay_ms_;
  uint64_t next_tick_;
  size_t pending_ = 0;
  std::vector<std::vector<entry>> slots_;
  std::vector<entry> fired_;
};

class worker {
public:
  // xorshift's first outputs from nearby seeds are nearly the same (two
  // threads failed the same early requests, 4 in a row): mix the seed first.
  worker(std::vector<int> listen_fds, worker_stats& stats, uint64_t delay_ms, uint64_t seed)
    : listen_fds_(std::move(listen_fds)), stats_(stats), delay_ms_(delay_ms),
      wheel_(delay_ms, monotonic_ms()), rng_(splitmix64(seed) | 1) {}

  void run(uint64_t deadline_ns) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : listen_fds_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
    std::vector<epoll_event> events(512);
    buf_.resize(read_chunk);
    while (realtime_ns() < deadline_ns) {
      // Owed answers: wake every millisecond to send the due ones.
      int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wheel_.pending() > 0 ? 1 : 50);
      auto epoch = g_epoch.load(std::memory_order_acquire);
      if (stats_.epoch.load(std::memory_order_relaxed) != epoch)
        stats_.clear(epoch);
      for (int i = 0; i < n; ++i) {
        int fd = events[static_cast<size_t>(i)].data.fd;
        if (std::find(listen_fds_.begin(), listen_fds_.end(), fd) != listen_fds_.end()) {
          accept_all(fd);
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end())
          continue;
        auto& c = *it->second;
        bool alive = true;
        if (events[static_cast<size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
          alive = on_readable(c);
        if (alive && !c.out.empty())
          alive = flush(c);
        if (!alive)
          close_conn(fd);
      }
      if (wheel_.pending() > 0)
        wheel_.fire(monotonic_ms(), [this](const timer_wheel::entry& e) { answer_late(e); });
    }
  }

private:
  void accept_all(int listen_fd) {
    for (;;) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      stats_.bump(stats_.connections, 1);
      auto c = std::make_unique<connection>();
      c->fd = fd;
      c->serial = ++serials_;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      conns_[fd] = std::move(c);
    }
  }

  void close_conn(int fd) {
    auto it = conns_.find(fd);
    if (it != conns_.end())
      for (const auto& o : it->second->owed)
        if (o.held)
          g_open.fetch_sub(1);
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns_.erase(fd);
  }

  bool on_readable(connection& c) {
    ssize_t n = ::read(c.fd, buf_.data(), buf_.size());
    if (n == 0)
      return false;
    if (n < 0)
      return errno == EAGAIN || errno == EINTR;
    return consume(c, buf_.data(), static_cast<size_t>(n));
  }

  // Feeds bytes through the request state machine; false closes.
  bool consume(connection& c, const char* p, size_t n) {
    while (n > 0) {
      if (!c.in_body) {
        std::string_view head;
        if (c.head.empty()) {
          // Fast path: the whole header block is in this chunk.
          auto* end = static_cast<const char*>(memmem(p, n, "\r\n\r\n", 4));
          if (end == nullptr) {
            c.head.assign(p, n);
            return n <= max_header_bytes;
          }
          head = std::string_view{p, static_cast<size_t>(end - p) + 2};
          size_t used = static_cast<size_t>(end - p) + 4;
          p += used;
          n -= used;
        } else {
          size_t old = c.head.size();
          size_t look = std::min(n, max_header_bytes);
          c.head.append(p, look);
          auto end = c.head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
          if (end == std::string::npos) {
            p += look;
            n -= look;
            if (c.head.size() > max_header_bytes)
              return false;
            continue;
          }
          size_t used = end + 4 - old; // bytes of this chunk that were header
          p += used;
          n -= used;
          c.head.resize(end + 2);
          head = c.head;
        }
        if (!parse_head(c, head))
          return false;
        c.head.clear();
        c.in_body = true;
        c.body_probe.clear();
        c.body_seen = 0;
        if (c.body_left == 0) {
          finish(c);
          continue;
        }
      }
      size_t take = std::min(n, c.body_left);
      if (c.body_probe.size() < body_probe_bytes)
        c.body_probe.append(p, std::min(take, body_probe_bytes - c.body_probe.size()));
      c.body_left -= take;
      c.body_seen += take;
      p += take;
      n -= take;
      if (c.body_left == 0)
        finish(c);
    }
    return true;
  }

  // `head` holds the request line and headers, each ending in CRLF.
  bool parse_head(connection& c, std::string_view head) {
    auto eol = head.find("\r\n");
    auto request_line = head.substr(0, eol);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
      return false;
    c.path.assign(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    c.body_left = 0;
    c.webhook_id.clear();
    bool expect_continue = false;
    size_t pos = eol + 2;
    while (pos < head.size()) {
      auto next = head.find("\r\n", pos);
      if (next == std::string_view::npos)
        next = head.size();
      auto line = head.substr(pos, next - pos);
      pos = next + 2;
      if (iequals_prefix(line, "content-length:")) {
        c.body_left = 0;
        for (char ch : trim(line.substr(15))) {
          if (ch < '0' || ch > '9')
            return false;
          c.body_left = c.body_left * 10 + static_cast<size_t>(ch - '0');
        }
      } else if (iequals_prefix(line, "transfer-encoding:")) {
        return false; // chunked bodies are not used by any client of the bench
      } else if (iequals_prefix(line, "expect:")) {
        expect_continue = true;
      } else if (g_track_ids && iequals_prefix(line, "webhook-id:")) {
        c.webhook_id.assign(trim(line.substr(11)));
      }
    }
    if (expect_continue && c.body_left > 0)
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
    return true;
  }

  void finish(connection& c) {
    c.in_body = false;
    if (c.path.rfind("/__", 0) == 0) {
      // Not ordered behind held answers: the harness asks on connections of its own.
      if (c.path == "/__reset") {
        auto epoch = g_epoch.fetch_add(1) + 1;
        stats_.clear(epoch);
        g_open_peak.store(g_open.load());
        g_ids.clear();
        c.out += control_response("{\"ok\":true}");
      } else if (c.path == "/__ids") {
        c.out += control_response(g_ids.dump(), "text/plain");
      } else {
        c.out += control_response(stats_json());
      }
      return;
    }
    auto now = realtime_ns();
    stats_.bump(stats_.requests, 1);
    stats_.bump(stats_.body_bytes, c.body_seen);
    if (stats_.first_ns.load(std::memory_order_relaxed) == 0)
      stats_.first_ns.store(now, std::memory_order_relaxed);
    stats_.last_ns.store(now, std::memory_order_relaxed);
    bool held = delay_ms_ > 0;
    if (held && !open_one()) {
      answer_now(c, answer::busy, now);
      return;
    }
    auto kind = answer::ok;
    if (g_modes.fail_percent > 0 && static_cast<int>(next_random() % 100) < g_modes.fail_percent)
      kind = answer::unavailable;
    else
      record_latency(c, now);
    if (kind == answer::ok && g_track_ids && !c.webhook_id.empty())
      g_ids.record(c.webhook_id, now);
    if (!held) {
      answer_now(c, kind, now);
      return;
    }
    c.owed.push_back({kind, true});
    wheel_.add({c.fd, c.serial}, monotonic_ms());
  }

  void record_latency(const connection& c, uint64_t now) {
    static constexpr std::string_view marker = "\"data\":{\"t\":";
    auto at = std::string_view{c.body_probe}.find(marker);
    if (at != std::string_view::npos) {
      uint64_t sent = std::strtoull(c.body_probe.c_str() + at + marker.size(), nullptr, 10);
      if (sent != 0 && sent <= now)
        stats_.latency.record((now - sent) / 1000);
    }
  }

  // Counts an answer held on the wheel; false, and not counted, when the
  // endpoint's --capacity workers are all busy.
  bool open_one() {
    auto open = g_open.fetch_add(1) + 1;
    auto peak = g_open_peak.load();
    while (open > peak && !g_open_peak.compare_exchange_weak(peak, open)) {
    }
    if (g_modes.capacity > 0 && open > g_modes.capacity) {
      g_open.fetch_sub(1);
      return false;
    }
    return true;
  }

  // An answer not held: out at once unless held ones are owed before it.
  void answer_now(connection& c, answer kind, uint64_t now) {
    if (c.owed.empty())
      send(c, kind, now);
    else
      c.owed.push_back({kind, false});
  }

  // `now`: CLOCK_REALTIME ns, for the first and last 200.
  void send(connection& c, answer kind, uint64_t now) {
    c.out.append(text_of(kind));
    if (kind == answer::unavailable) {
      stats_.bump(stats_.failed, 1);
    } else if (kind == answer::busy) {
      stats_.bump(stats_.busy, 1);
    } else {
      stats_.bump(stats_.ok, 1);
      if (stats_.ok_first_ns.load(std::memory_order_relaxed) == 0)
        stats_.ok_first_ns.store(now, std::memory_order_relaxed);
      stats_.ok_last_ns.store(now, std::memory_order_relaxed);
    }
  }

  // A held answer is due; its connection may have gone meanwhile. Every
  // entry waits the same delay, so the wheel fires a connection's entries in
  // order and this one is its first held answer.
  void answer_late(const timer_wheel::entry& e) {
    auto it = conns_.find(e.fd);
    if (it == conns_.end() || it->second->serial != e.serial)
      return;
    auto& c = *it->second;
    auto now = realtime_ns();
    g_open.fetch_sub(1);
    send(c, c.owed.front().kind, now);
    c.owed.pop_front();
    while (!c.owed.empty() && !c.owed.front().held) {
      send(c, c.owed.front().kind, now);
      c.owed.pop_front();
    }
    if (!flush(c))
      close_conn(e.fd);
  }

  uint64_t next_random() { // xorshift64
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }

  bool flush(connection& c) {
    while (!c.out.empty()) {
      ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR)
          break;
        return false;
      }
      c.out.erase(0, static_cast<size_t>(w));
    }
    bool want = !c.out.empty();
    if (want != c.want_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
      ev.data.fd = c.fd;
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_out = want;
    }
    return true;
  }

  std::vector<int> listen_fds_;
  worker_stats& stats_;
  uint64_t delay_ms_;
  timer_wheel wheel_;
  uint64_t rng_;
  uint64_t serials_ = 0;
  int ep_ = -1;
  std::vector<char> buf_;
  std::unordered_map<int, std::unique_ptr<connection>> conns_;
};

int make_listener(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    errno = EINVAL;
    return -1;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4096) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int usage() {
  std::fprintf(stderr, "usage: sink --port P [--host 127.0.0.1] [--hosts 1] [--threads 1] "
                       "[--delay-ms 0]\n"
                       "            [--fail-percent P] [--seed S] [--capacity C --work-ms W] "
                       "[--max-seconds 7200]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 1;
  int hosts = 1;
  uint64_t delay_ms = 0;
  long max_seconds = 7200; // bounded even if the harness forgets it
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return usage();
    std::string v = argv[++i];
    if (a == "--port")
      port = std::atoi(v.c_str());
    else if (a == "--host")
      host = v;
    else if (a == "--threads")
      threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--hosts")
      hosts = std::max(1, std::min(254, std::atoi(v.c_str())));
    else if (a == "--delay-ms" || a == "--work-ms") {
      auto ms = static_cast<uint64_t>(std::max(0L, std::atol(v.c_str())));
      if (delay_ms != 0 && ms != delay_ms) {
        std::fprintf(stderr, "sink: --delay-ms and --work-ms name the same wait before each "
                             "answer; give one value\n");
        return 2;
      }
      delay_ms = ms;
    } else if (a == "--max-seconds")
      max_seconds = std::atol(v.c_str());
    else if (a == "--fail-percent")
      g_modes.fail_percent = std::clamp(std::atoi(v.c_str()), 0, 100);
    else if (a == "--seed")
      g_modes.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--capacity")
      g_modes.capacity = std::max(0, std::atoi(v.c_str()));
    else if (a == "--track-ids")
      g_track_ids = std::atoi(v.c_str()) != 0;
    else
      return usage();
  }
  if (port <= 0 || port > 65535)
    return usage();
  if (g_modes.capacity > 0 && delay_ms == 0) {
    std::fprintf(stderr, "sink: --capacity C needs --work-ms W, how long each request holds "
                         "one of the C workers\n");
    return 2;
  }
  g_start_ns = realtime_ns();
  if (hosts > 1 && host != "127.0.0.1")
    return usage(); // --hosts counts up from 127.0.0.1
  std::vector<std::vector<int>> listeners(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    for (int h = 0; h < hosts; ++h) {
      auto address = hosts > 1 ? "127.0.0." + std::to_string(1 + h) : host;
      int fd = make_listener(address, port);
      if (fd < 0) {
        std::fprintf(stderr, "sink: cannot listen on %s:%d: %s\n", address.c_str(), port,
                     std::strerror(errno));
        return 1;
      }
      listeners[static_cast<size_t>(t)].push_back(fd);
    }
    g_stats.push_back(std::make_unique<worker_stats>());
  }
  uint64_t deadline = g_start_ns + static_cast<uint64_t>(max_seconds) * 1000000000ull;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      worker w{listeners[static_cast<size_t>(t)], *g_stats[static_cast<size_t>(t)], delay_ms,
               g_modes.seed * 1000 + static_cast<uint64_t>(t)};
      w.run(deadline);
    });
  std::fprintf(stderr,
               "sink: listening on %s:%d (%d host(s)) with %d thread(s), answers after "
               "%llu ms, %d %% 503, capacity %lld (0: none)\n",
               host.c_str(), port, hosts, threads, (unsigned long long)delay_ms, g_modes.fail_percent,
               (long long)g_modes.capacity);
  for (auto& th : pool)
    th.join();
  return 0;
}
