#include "http/http_engine.hpp"

#include "http/address_policy.hpp"
#include "http/socket_watch.hpp"
#include "http/transfer_placement.hpp"
#include "logging/logger.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <strings.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace volley {

namespace {

using steady = std::chrono::steady_clock;

// One easy handle with the state of the transfer it runs. Kept and reused
// after the transfer ends: the options that never change are set once, and
// the rest only when they differ from the previous request's.
struct transfer {
  CURL* easy = nullptr;
  http_request request;
  attempt_result result;
  std::vector<curl_slist> header_nodes; // point into request.headers
  std::string url;                      // the URL set on `easy`
  std::string ca_file;                  // the CA file set on `easy`
  int tls_insecure = -1;                // as set on `easy`; -1: not yet
  bool allow_private = false;
  socket_watch* sockets = nullptr;
  transfer_placement::spot spot; // the multi handle it runs on
  std::string refused_address;   // set when the SSRF guard refused the connect
  int socket_errno = 0;          // set when no socket could be opened
  char error_buffer[CURL_ERROR_SIZE] = {0};

  ~transfer() {
    if (easy)
      curl_easy_cleanup(easy);
  }
};

// curl would otherwise wait for "100 Continue" on bodies over 1 KiB.
char no_expect[] = "Expect:";

// Response bodies are never kept: read to the end (so the connection can be
// reused) and dropped; the request timeout bounds a body that never ends.
size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

constexpr long receive_buffer_bytes = 1024;

size_t capture_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  size_t len = size * count;
  static constexpr char name[] = "retry-after:";
  constexpr size_t name_len = sizeof(name) - 1;
  if (len > name_len && strncasecmp(data, name, name_len) == 0) {
    std::string value{data + name_len, len - name_len};
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    t->result.retry_after = std::move(value);
  }
  return len;
}

// The SSRF guard acts here, at connect time, on the address actually used.
curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<transfer*>(user);
  if (!t->allow_private && is_restricted_address(&address->addr)) {
    t->refused_address = address_to_string(&address->addr);
    return CURL_SOCKET_BAD;
  }
  int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd >= 0)
    t->sockets->opened(fd);
  else
    t->socket_errno = errno;
  return fd;
}

// The connection may outlive the transfer that opened it: the socket set,
// not the transfer, is told.
int close_socket(void* user, curl_socket_t fd) {
  static_cast<socket_watch*>(user)->closing(fd);
  return ::close(fd);
}

} // namespace

// One engine thread: an epoll loop over the sockets of its multi handles.
struct http_engine::impl {
  // One libcurl multi handle of the thread and when it wants to be called
  // on its timeout.
  struct multi_slot {
    CURLM* multi = nullptr;
    bool timer_armed = false;
    steady::time_point due{};
    uint64_t timer_generation = 0; // tells the slot's latest timer from replaced ones
    size_t cache_size = 0;         // CURLMOPT_MAXCONNECTS as set
    bool touched = false;          // curl acted on it this round: completions may wait

    ~multi_slot() {
      if (multi)
        curl_multi_cleanup(multi);
    }
  };

  // What the timer and socket callbacks get: the slot, by index.
  struct slot_ref {
    impl* loop;
    size_t index;
  };

  // A multi handle's timeout, in a min-heap of every handle's; a later
  // call of curl's timer callback replaces it (the old entry is skipped).
  struct timer_entry {
    steady::time_point due;
    size_t index;
    uint64_t generation;
    bool operator>(const timer_entry& o) const { return due > o.due; }
  };

  http_engine_options options;
  engine_admission& admission;
  socket_watch sockets;
  int wake_fd = -1;            // eventfd: a submit or stop() for a sleeping loop
  CURLSH* share = nullptr;     // DNS answers and TLS sessions, for every multi handle
  std::string default_ca_file; // libcurl's own, for requests that set none
  std::mutex queue_mutex;
  std::vector<http_request> incoming; // guarded by queue_mutex
  bool stopping = false;              // guarded by queue_mutex
  // Set while the thread is (about to be) blocked in epoll_wait: only then
  // does a submit need the eventfd write.
  std::atomic<bool> sleeping{false};
  // Requests given to this thread and not yet ended: while fewer than
  // transfers_per_multi, submit() sends it its origins' next requests.
  std::atomic<size_t> held{0};
  std::deque<http_request> waiting;            // engine thread only: over max_concurrent
  std::vector<std::unique_ptr<transfer>> idle; // engine thread only
  std::unordered_set<transfer*> running;       // engine thread only
  transfer_placement placement;
  std::vector<std::unique_ptr<multi_slot>> slots; // by index; opened when first used
  std::vector<std::unique_ptr<slot_ref>> refs;
  std::vector<size_t> touched;     // slots curl acted on since completions were read
  std::vector<timer_entry> timers; // a min-heap by due time
  size_t connection_budget;        // connections, all handles together
  size_t lent = 0;                 // of the budget, over the handles' guaranteed shares
  size_t opened = 0;               // multi handles opened so far
  std::vector<CURLMsg> finished;   // scratch
  // Owners whose results were queued this round (repeats too): raised once
  // the round's completions are read, one wake-up for all of them.
  std::vector<std::shared_ptr<result_signal>> signaled;
  std::thread worker;

  impl(http_engine_options opts, engine_admission& admitted, size_t budget)
    : options(opts), admission(admitted),
      // Idle origins remembered: no more than could each keep one idle
      // connection within the thread's share of the open-file limit (and
      // 65,536, about 10 MB, when the limit is unlimited).
      placement(opts.transfers_per_multi,
                (opts.max_concurrent + opts.transfers_per_multi - 1) / opts.transfers_per_multi,
                std::min<size_t>(budget, 65536)),
      slots(placement.multis()), refs(placement.multis()), connection_budget(budget) {
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0)
      throw std::runtime_error(std::string{"HTTP engine: cannot create an eventfd: "} + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd;
    epoll_ctl(sockets.epoll_fd(), EPOLL_CTL_ADD, wake_fd, &ev);
    // One thread uses the share: no locks needed.
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (CURL* probe = curl_easy_init()) {
      char* ca = nullptr;
      if (curl_easy_getinfo(probe, CURLINFO_CAINFO, &ca) == CURLE_OK && ca != nullptr)
        default_ca_file = ca;
      curl_easy_cleanup(probe);
    }
    worker = std::thread{[this] {
      pthread_setname_np(pthread_self(), "volley.http"); // for top -H and perf
      run();
    }};
  }

  ~impl() {
    // Easy handles first, then the multi handles (closing their cached
    // connections tells `sockets`), then the share they used.
    idle.clear();
    slots.clear();
    curl_share_cleanup(share);
    ::close(wake_fd);
  }

  // -- libcurl's callbacks

  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void*) {
    auto* ref = static_cast<slot_ref*>(user);
    auto& sockets = ref->loop->sockets;
    if (what == CURL_POLL_REMOVE)
      sockets.unwatch(fd);
    else
      sockets.watch(fd, (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u), ref);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) {
    auto* ref = static_cast<slot_ref*>(user);
    auto* loop = ref->loop;
    auto& slot = *loop->slots[ref->index];
    ++slot.timer_generation;
    slot.timer_armed = timeout_ms >= 0;
    if (slot.timer_armed) {
      slot.due = steady::now() + std::chrono::milliseconds(timeout_ms);
      loop->push_timer({slot.due, ref->index, slot.timer_generation});
    }
    return 0;
  }

  void push_timer(timer_entry e) {
    // Replaced entries are dropped as they surface; rebuild when they pile up.
    if (timers.size() > 64 + 4 * slots.size()) {
      timers.clear();
      for (size_t i = 0; i < slots.size(); ++i)
        if (slots[i] && slots[i]->timer_armed)
          timers.push_back({slots[i]->due, i, slots[i]->timer_generation});
      std::make_heap(timers.begin(), timers.end(), std::greater<>{});
    }
    timers.push_back(e);
    std::push_heap(timers.begin(), timers.end(), std::greater<>{});
  }

  bool current(const timer_entry& e) const {
    const auto& slot = *slots[e.index];
    return slot.timer_armed && slot.timer_generation == e.generation;
  }

  // Drops replaced entries from the top; the earliest live one, if any.
  const timer_entry* earliest_timer() {
    while (!timers.empty() && !current(timers.front())) {
      std::pop_heap(timers.begin(), timers.end(), std::greater<>{});
      timers.pop_back();
    }
    return timers.empty() ? nullptr : &timers.front();
  }

  // -- multi handles

  // Multi handles are opened when a transfer first needs one.
  multi_slot& slot_at(size_t index) {
    if (slots[index])
      return *slots[index];
    auto slot = std::make_unique<multi_slot>();
    auto ref = std::make_unique<slot_ref>(slot_ref{this, index});
    slot->multi = curl_multi_init();
    auto* m = slot->multi;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, ref.get());
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, ref.get());
    slot->cache_size = guaranteed_cache();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(slot->cache_size));
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(slot->cache_size));
    slots[index] = std::move(slot);
    refs[index] = std::move(ref);
    ++opened;
    return *slots[index];
  }

  // The handle's connection cache: a connection per transfer it runs and
  // an eighth more, and at least its guaranteed share, so many origins with
  // a few transfers each keep their idle connections (a reconnect costs a
  // handshake, with TLS a long one). The thread's connections stay within
  // its share of the open-file limit: half of it is guaranteed, split
  // evenly over the handles (at most 8 x transfers_per_multi each), the
  // rest lent to busy handles and given back as they calm down, and so are
  // the shares of handles never opened (a handle opens when an origin
  // first runs a transfer there: with few origins, many never do). Past its size a
  // handle opens no connection before closing its oldest idle one (or,
  // with none idle, lets the transfer wait for one), so a full cache never
  // becomes a failed connect. Why 8 x: subscribers take turns for the
  // engine's room, and a handle's origins need their idle connections for
  // their next turn; at 4 x, 1,000 subscribers at 100 ms with 1,024 in
  // flight reconnected for a third of their deliveries (bench (g)). A
  // larger cache costs a longer walk in curl_multi_remove_handle only
  // where it fills.
  size_t guaranteed_cache() const {
    return std::max<size_t>(
      1, std::min(8 * placement.per_multi(), connection_budget / (2 * placement.multis())));
  }

  void size_cache(size_t index) {
    auto& slot = *slots[index];
    auto running = placement.running(index);
    auto base = guaranteed_cache();
    auto want = std::max(running + std::max<size_t>(running / 8, 8), base);
    auto size = slot.cache_size;
    if (want > size) {
      auto pool = connection_budget - base * opened; // handles never opened hold nothing
      auto room = pool > lent ? pool - lent : 0;
      // A handle that shrank keeps its idle connections until libcurl
      // prunes them, one per transfer ending on it: lend no more than the
      // sockets actually open leave of the budget.
      auto open = sockets.open();
      room = std::min(room, connection_budget > open ? connection_budget - open : 0);
      size = std::min(want, size + room);
    } else if (size > base && size > 2 * want) {
      size = want; // calmed down: give back what it no longer uses
    }
    if (size == slot.cache_size)
      return;
    lent = lent + size - slot.cache_size; // both above base
    slot.cache_size = size;
    curl_multi_setopt(slot.multi, CURLMOPT_MAXCONNECTS, static_cast<long>(size));
    curl_multi_setopt(slot.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(size));
  }

  void act(size_t index, curl_socket_t fd, int flags) {
    auto& slot = *slots[index];
    int still_running = 0;
    curl_multi_socket_action(slot.multi, fd, flags, &still_running);
    if (!slot.touched) {
      slot.touched = true;
      touched.push_back(index);
    }
  }

  // The multi handles whose timeout is due.
  void run_timers() {
    auto now = steady::now();
    while (auto* e = earliest_timer()) {
      if (e->due > now)
        return;
      auto index = e->index;
      std::pop_heap(timers.begin(), timers.end(), std::greater<>{});
      timers.pop_back();
      slots[index]->timer_armed = false;
      act(index, CURL_SOCKET_TIMEOUT, 0); // may arm it again
    }
  }

  int wait_ms() {
    auto* e = earliest_timer();
    if (e == nullptr)
      return 1000;
    auto now = steady::now();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(e->due - now).count();
    // Round up: waking a little early would spin until the deadline.
    if (e->due > now + std::chrono::milliseconds(left))
      ++left;
    return static_cast<int>(std::clamp<long>(left, 0, 1000));
  }

  // -- transfers

  transfer* make_transfer() {
    auto* t = new transfer;
    t->allow_private = options.allow_private_networks;
    t->sockets = &sockets;
    auto* e = t->easy = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    // libcurl's receive buffer is 16 KB per handle by default: 260 MB at
    // 16k transfers in flight, to read answers that are mostly a status
    // line and a few headers. Its least, 1 KB, holds those; longer ones
    // take a few more reads. (4 KB cost 53 MB more RSS at 16k in flight
    // for the same rate and CPU, bench (g).)
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, receive_buffer_bytes);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, capture_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, &sockets);
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    return t;
  }

  void start(http_request&& req) {
    transfer* t;
    if (idle.empty()) {
      t = make_transfer();
    } else {
      t = idle.back().release();
      idle.pop_back();
    }
    t->request = std::move(req);
    t->result = attempt_result{};
    t->refused_address.clear();
    t->socket_errno = 0;
    t->error_buffer[0] = '\0';
    auto* e = t->easy;
    // The header list curl reads, built in place: no copy of any line.
    t->header_nodes.resize(t->request.headers.size() + 1);
    size_t i = 0;
    t->request.headers.each([&](const char* line) {
      t->header_nodes[i].data = const_cast<char*>(line);
      t->header_nodes[i].next = &t->header_nodes[i + 1];
      ++i;
    });
    t->header_nodes[i] = {no_expect, nullptr};
    if (t->url != t->request.url) {
      t->url = t->request.url;
      curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
    }
    if (t->tls_insecure != static_cast<int>(t->request.tls_insecure)) {
      t->tls_insecure = t->request.tls_insecure;
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->request.tls_insecure ? 0L : 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->request.tls_insecure ? 0L : 2L);
    }
    const auto& ca = t->request.tls_ca_file.empty() ? default_ca_file : t->request.tls_ca_file;
    if (t->ca_file != ca) {
      t->ca_file = ca;
      curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file.empty() ? nullptr : t->ca_file.c_str());
    }
    const auto& body = *t->request.body;
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_nodes.data());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t->request.timeout_ms));
    t->spot = placement.place(origin_of(t->url));
    auto& slot = slot_at(t->spot.multi);
    size_cache(t->spot.multi);
    running.insert(t);
    if (auto rc = curl_multi_add_handle(slot.multi, e); rc != CURLM_OK) {
      t->result.error = std::string{"cannot start request: "} + curl_multi_strerror(rc);
      finish(t);
    }
  }

  void complete(CURL* easy, CURLcode code) {
    transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    curl_multi_remove_handle(slots[t->spot.multi]->multi, easy);
    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    t->result.latency_ms = static_cast<double>(total_us) / 1000.0;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      t->result.status = static_cast<int>(status);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      t->result.timed_out = true;
      t->result.error = "timeout";
    } else if (!t->refused_address.empty()) {
      t->result.address_refused = true;
      t->result.error = "refused to connect to " + t->refused_address +
                        ": private or loopback address (set allow_private_networks to allow)";
    } else if (t->socket_errno != 0) {
      t->result.no_socket = true;
      t->result.error = std::string{"cannot open a socket: "} + std::strerror(t->socket_errno) +
                        (t->socket_errno == EMFILE || t->socket_errno == ENFILE
                           ? " (raise the open-file limit, ulimit -n, or lower http.max_concurrent)"
                           : "");
    } else {
      t->result.error = t->error_buffer[0] != '\0' ? t->error_buffer : curl_easy_strerror(code);
    }
    finish(t);
  }

  void finish(transfer* t) {
    placement.release(t->spot);
    size_cache(t->spot.multi);
    if (t->request.on_done)
      t->request.on_done(std::move(t->result));
    if (t->request.signal)
      signaled.push_back(std::move(t->request.signal));
    running.erase(t);
    // The request (body, callback) is released now, the handle kept.
    t->request = http_request{};
    idle.emplace_back(t);
    held.fetch_sub(1, std::memory_order_relaxed);
    admission.ended();
  }

  // The transfers that ended on the multi handles curl acted on. Every
  // message is read before a handle is removed: curl_multi_remove_handle
  // walks the messages still queued.
  void collect_completions() {
    while (!touched.empty()) {
      auto index = touched.back();
      touched.pop_back();
      slots[index]->touched = false;
      finished.clear();
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(slots[index]->multi, &left))
        if (msg->msg == CURLMSG_DONE)
          finished.push_back(*msg);
      for (const auto& msg : finished)
        complete(msg.easy_handle, msg.data.result);
    }
  }

  void raise_signals() {
    for (auto& s : signaled)
      s->raise();
    signaled.clear();
  }

  void start_waiting() {
    while (!waiting.empty() && running.size() < options.max_concurrent) {
      start(std::move(waiting.front()));
      waiting.pop_front();
    }
  }

  bool take_incoming(std::vector<http_request>& batch) {
    std::lock_guard<std::mutex> guard{queue_mutex};
    batch.swap(incoming);
    return !stopping;
  }

  void run() {
    std::vector<http_request> batch;
    std::vector<epoll_event> events(512);
    for (;;) {
      if (!take_incoming(batch))
        break;
      for (auto& req : batch)
        waiting.push_back(std::move(req));
      batch.clear();
      start_waiting();
      run_timers(); // new transfers start on curl's zero timeout
      collect_completions();
      raise_signals();
      sleeping.store(true);
      {
        // Work that arrived since take_incoming: no sleep.
        std::lock_guard<std::mutex> guard{queue_mutex};
        if (!incoming.empty() || stopping)
          sleeping.store(false);
      }
      bool can_start = !waiting.empty() && running.size() < options.max_concurrent;
      int timeout = sleeping.load() && !can_start ? wait_ms() : 0;
      int n = epoll_wait(sockets.epoll_fd(), events.data(), static_cast<int>(events.size()), timeout);
      sleeping.store(false);
      for (int i = 0; i < n; ++i) {
        const auto& ev = events[static_cast<size_t>(i)];
        int fd = ev.data.fd;
        if (fd == wake_fd) {
          uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof count);
          continue;
        }
        auto* ref = static_cast<slot_ref*>(sockets.owner(fd));
        if (ref == nullptr) {
          sockets.drop(fd); // an idle keep-alive connection woke: closed by the peer
          continue;
        }
        int flags = (ev.events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (ev.events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (ev.events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        act(ref->index, fd, flags);
      }
      run_timers();
      collect_completions();
      raise_signals();
    }
    abort_all();
  }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd, &one, sizeof one);
  }

  // On shutdown: drop running transfers without reporting them; the
  // deliveries stay pending on disk and are retried after the restart.
  void abort_all() {
    waiting.clear();
    auto left = running;
    for (auto* t : left) {
      curl_multi_remove_handle(slots[t->spot.multi]->multi, t->easy);
      t->request.on_done = nullptr;
      finish(t);
    }
  }
};

namespace {

// The engine takes the transfers it runs and a quarter more queued (at
// least 64 more, or as many more as it runs when that is fewer): enough
// that it never idles while subscribers answer a wake-up. A queued request
// holds its body and signed headers: at 16k in flight, twice as many cost
// 11-12 MB more for the same rates (bench (g)).
size_t admission_capacity(size_t max_concurrent) {
  auto running = std::max<size_t>(max_concurrent, 1);
  return running + std::max(running / 4, std::min<size_t>(running, 64));
}

} // namespace

http_engine::http_engine(http_engine_options options)
  : admission_(admission_capacity(options.max_concurrent)) {
  // A transfer holds a socket, a kept-alive connection too: say so now
  // rather than as failed connects under load.
  rlimit files{};
  // A connection per transfer, and idle ones kept for their origins' next
  // transfers (the caches held to the limit less the reserve below).
  auto sockets = options.max_concurrent + options.max_concurrent / 4 + 256;
  size_t budget = SIZE_MAX;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    if (files.rlim_cur < sockets)
      log_warn("http.max_concurrent " + std::to_string(options.max_concurrent) + " needs about " +
               std::to_string(sockets) + " sockets but the open-file limit is " +
               std::to_string(files.rlim_cur) +
               ": raise it (ulimit -n, LimitNOFILE=) or lower http.max_concurrent");
    // The rest of the daemon keeps some (LMDB, the ingress's 1,024
    // clients by default, the API), and libcurl opens a few percent past
    // CURLMOPT_MAX_TOTAL_CONNECTIONS (the bare loop: 3,270 sockets for
    // 3,200; volleyd at 16k in flight: 18,935 for a budget of 17,976). A
    // fifth of the limit was kept once: at 20,000 files and 16k transfers
    // in flight that left too few connections for the transfers, 0.25
    // connects per delivery (bench (g)).
    auto reserve = std::min<size_t>(files.rlim_cur / 5, 1024 + files.rlim_cur / 20);
    budget = files.rlim_cur > reserve ? files.rlim_cur - reserve : 1;
  }
  auto n = std::max<size_t>(options.threads, 1);
  budget = std::max<size_t>(budget / n, 1);
  // The cap on running transfers is the engine's: each thread gets its share.
  options.max_concurrent = std::max<size_t>(options.max_concurrent / n, 1);
  options.transfers_per_multi = std::max<size_t>(options.transfers_per_multi, 1);
  for (size_t i = 0; i < n; ++i)
    shards_.push_back(std::make_unique<impl>(options, admission_, budget));
}

http_engine::~http_engine() { stop(); }

void http_engine::submit(std::vector<http_request>&& batch) {
  if (batch.empty())
    return;
  auto n = shards_.size();
  // A lightly loaded thread takes its origins' requests: a lone busy
  // subscriber keeps one thread awake instead of waking every thread in
  // turn (scenario (b): the engine threads' context switches per delivery
  // 0.54 -> 0.10-0.17, CPU per delivery 0.88x). Under load they are dealt
  // one by one over the threads, as before, so every origin's connections
  // spread evenly (a pick by load there cost more connects at 16k in flight).
  std::vector<uint32_t> to(batch.size());
  std::string_view last_origin;
  size_t home = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto origin = origin_of(batch[i].url);
    if (i == 0 || origin != last_origin)
      home = home_thread(origin, n);
    last_origin = origin;
    auto& at_home = *shards_[home];
    auto pick = at_home.held.load(std::memory_order_relaxed) < at_home.options.transfers_per_multi
                  ? home
                  : next_shard_.fetch_add(1, std::memory_order_relaxed) % n;
    to[i] = static_cast<uint32_t>(pick);
    shards_[pick]->held.fetch_add(1, std::memory_order_relaxed);
  }
  for (size_t k = 0; k < n; ++k) {
    auto& shard = *shards_[k];
    bool any = false;
    {
      std::lock_guard<std::mutex> guard{shard.queue_mutex};
      for (size_t i = 0; i < batch.size(); ++i) {
        if (to[i] != k)
          continue;
        any = true;
        if (shard.stopping) {
          shard.held.fetch_sub(1, std::memory_order_relaxed); // dropped
          continue;
        }
        shard.incoming.push_back(std::move(batch[i]));
        admission_.added(1);
      }
    }
    if (any && shard.sleeping.exchange(false))
      shard.wake();
  }
  batch.clear();
}

void http_engine::stop() {
  for (auto& shard : shards_) {
    {
      std::lock_guard<std::mutex> guard{shard->queue_mutex};
      if (shard->stopping)
        continue;
      shard->stopping = true;
    }
    shard->wake();
  }
  for (auto& shard : shards_)
    if (shard->worker.joinable())
      shard->worker.join();
}

} // namespace volley
