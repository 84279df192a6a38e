// bench/curl_ceiling: the ceiling of Volley's HTTP stack. A bare libcurl
// multi loop — no actors, no disk, no per-request allocation — POSTs one
// body through `--handles` easy handles, re-adding each handle as soon as it
// completes. The body and header set look like Volley's deliveries
// (webhook-* and X-Webhook-* headers, both signature forms), with fixed
// values.
//
// --loop poll (default): curl_multi_perform + curl_multi_poll. perform
// visits every transfer on every wake-up and poll hands the kernel every
// socket, so its cost per request grows with --handles.
// --loop socket: epoll + curl_multi_socket_action, curl telling us which
// sockets to watch and when its next timeout is due; a wake-up costs what
// the ready sockets cost. --epoll lazy (default) keeps a socket registered
// while its connection idles in curl's cache, so a reused connection costs
// no epoll_ctl at all; --epoll eager adds and removes it as curl asks.
//
// --per-multi C (socket loop only) puts at most C handles on one multi
// handle (default: all on one).
//
// --hosts N spreads the handles over 127.0.0.1 .. 127.0.0.N (the sink's
// --hosts), as real subscribers are spread over hosts: libcurl looks for an
// idle connection among those to the same host, one by one.
//
// Stops after --requests completions or --duration seconds. Counts after
// --warmup seconds (connections opened, first answers in). Prints one JSON
// object on stdout, with the process's CPU time (user+system, every thread)
// per request over the counted window, and its peak RSS.
//
// Usage: curl_ceiling --url URL [--handles 64] [--requests 200000]
//                     [--duration 20] [--warmup 0] [--size 100]
//                     [--loop poll|socket] [--epoll lazy|eager] [--hosts 1]
//                     [--per-multi C] [--buffer BYTES] [--cafile PEM]
//                     [--max-total N] [--share 0|1]

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// --loop socket: the sockets curl wants watched, in one epoll set, for one
// or more multi handles (--per-multi): each multi handle has a connection
// cache of its own, and libcurl 7.88's curl_multi_remove_handle walks every
// connection in its handle's cache, so smaller caches make each completion
// cheaper.
struct socket_loop {
  using clock = std::chrono::steady_clock;
  struct shard {
    socket_loop* loop = nullptr;
    CURLM* multi = nullptr;
    bool due = false; // curl asked to be called on its timeout
    clock::time_point due_at{};
  };

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  bool lazy = true;
  std::vector<std::unique_ptr<shard>> shards;
  // Per fd: the events registered with epoll (0: not registered), whether
  // curl currently wants the socket watched (and by which multi), and
  // whether it was opened (and will be closed) through our callbacks: only
  // then do we know when the kernel forgets it, so only those stay
  // registered while their connection idles in curl's cache.
  std::vector<uint32_t> registered;
  std::vector<shard*> wanted_by;
  std::vector<bool> ours;
  long epoll_ctls = 0;

  void grow(curl_socket_t s) {
    if (static_cast<size_t>(s) >= registered.size()) {
      registered.resize(static_cast<size_t>(s) + 1024, 0);
      wanted_by.resize(static_cast<size_t>(s) + 1024, nullptr);
      ours.resize(static_cast<size_t>(s) + 1024, false);
    }
  }

  void set(curl_socket_t s, uint32_t events) {
    grow(s);
    auto& have = registered[static_cast<size_t>(s)];
    if (have == events)
      return;
    epoll_event ev{};
    ev.data.fd = s;
    ev.events = events;
    int op = events == 0 ? EPOLL_CTL_DEL : have == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    ++epoll_ctls;
    if (epoll_ctl(epoll_fd, op, s, &ev) != 0 && op != EPOLL_CTL_DEL) {
      // Registered by a previous owner of the fd: the other operation.
      ++epoll_ctls;
      epoll_ctl(epoll_fd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
    }
    have = events;
  }

  static int on_socket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto* sh = static_cast<shard*>(user);
    auto* self = sh->loop;
    self->grow(s);
    if (what == CURL_POLL_REMOVE) {
      self->wanted_by[static_cast<size_t>(s)] = nullptr;
      if (!self->lazy || !self->ours[static_cast<size_t>(s)])
        self->set(s, 0);
      return 0;
    }
    self->wanted_by[static_cast<size_t>(s)] = sh;
    self->set(s, (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u));
    return 0;
  }

  static int on_timer(CURLM*, long timeout, void* user) {
    auto* sh = static_cast<shard*>(user);
    sh->due = timeout >= 0;
    sh->due_at = clock::now() + std::chrono::milliseconds(timeout);
    return 0;
  }

  // A new socket: epoll does not know it (closing one removes it).
  static curl_socket_t on_open(void* user, curlsocktype, curl_sockaddr* a) {
    auto* self = static_cast<socket_loop*>(user);
    int s = ::socket(a->family, a->socktype, a->protocol);
    if (s >= 0) {
      self->grow(s);
      self->registered[static_cast<size_t>(s)] = 0;
      self->wanted_by[static_cast<size_t>(s)] = nullptr;
      self->ours[static_cast<size_t>(s)] = true;
    }
    return s;
  }

  static int on_close(void* user, curl_socket_t s) {
    auto* self = static_cast<socket_loop*>(user);
    self->grow(s);
    self->registered[static_cast<size_t>(s)] = 0;
    self->wanted_by[static_cast<size_t>(s)] = nullptr;
    self->ours[static_cast<size_t>(s)] = false;
    return ::close(s);
  }

  CURLM* add_multi() {
    auto sh = std::make_unique<shard>();
    sh->loop = this;
    sh->multi = curl_multi_init();
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh.get());
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh.get());
    shards.push_back(std::move(sh));
    return shards.back()->multi;
  }

  void attach_easy(CURL* easy) {
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  }

  // Runs the timeouts that are due.
  void run_timers() {
    auto now = clock::now();
    int running = 0;
    for (auto& sh : shards)
      if (sh->due && sh->due_at <= now) {
        sh->due = false;
        curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
  }

  // One round: wait for ready sockets (or the next timeout) and let curl act.
  void step() {
    auto now = clock::now();
    int wait_ms = 1000;
    for (auto& sh : shards)
      if (sh->due)
        wait_ms = std::min<int>(
          wait_ms, static_cast<int>(std::max<long>(
                     0, std::chrono::duration_cast<std::chrono::milliseconds>(sh->due_at - now).count())));
    epoll_event events[512];
    int n = epoll_wait(epoll_fd, events, 512, wait_ms);
    int running = 0;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      auto* sh = wanted_by[static_cast<size_t>(fd)];
      if (sh == nullptr) {
        set(fd, 0); // an idle cached connection woke (closed by the peer)
        continue;
      }
      int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                  (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                  (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(sh->multi, fd, flags, &running);
    }
    run_timers();
  }
};

// A body shaped like Volley's: {"id","type","timestamp","data":{"t","p"}}.
std::string make_body(size_t data_size) {
  size_t overhead = 32;
  std::string pad(data_size > overhead ? data_size - overhead : 0, 'x');
  return "{\"id\":\"evt_3f2a9c1b7d4e5f60000000000000a1b2\",\"type\":\"bench.event\","
         "\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"t\":0000000000000000000,\"p\":\"" +
         pad + "\"}}";
}

// The URL of handle i: 127.0.0.1 replaced by 127.0.0.(1 + i % hosts).
std::string url_of(const std::string& url, long i, long hosts) {
  auto at = url.find("127.0.0.1");
  if (hosts <= 1 || at == std::string::npos)
    return url;
  return url.substr(0, at) + "127.0.0." + std::to_string(1 + i % hosts) + url.substr(at + 9);
}

int usage() {
  std::fprintf(stderr, "usage: curl_ceiling --url URL [--handles 64] [--requests 200000] "
                       "[--duration 20] [--warmup 0] [--size 100] [--loop poll|socket] "
                       "[--epoll lazy|eager] [--hosts 1] [--per-multi C] [--buffer BYTES] "
                       "[--cafile PEM] [--max-total N] [--share 0|1]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::string url;
  long handles = 64;
  long hosts = 1;
  long per_multi = 0; // 0: every handle on one multi handle
  long buffer = 0;    // CURLOPT_BUFFERSIZE; 0: libcurl's default (16 KB)
  std::string cafile; // CURLOPT_CAINFO for https URLs
  long max_total = 0; // CURLMOPT_MAXCONNECTS and MAX_TOTAL_CONNECTIONS per multi; 0: its handles
  bool share = false; // one CURLSH for DNS answers and TLS sessions, as the engine has
  long long requests = 200000;
  double duration_s = 20;
  double warmup_s = 0;
  size_t size = 100;
  std::string loop = "poll";
  std::string epoll_mode = "lazy";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return usage();
    std::string v = argv[++i];
    if (a == "--url")
      url = v;
    else if (a == "--handles")
      handles = std::max(1L, std::atol(v.c_str()));
    else if (a == "--hosts")
      hosts = std::max(1L, std::min(254L, std::atol(v.c_str())));
    else if (a == "--share")
      share = v == "1" || v == "yes";
    else if (a == "--max-total")
      max_total = std::max(0L, std::atol(v.c_str()));
    else if (a == "--cafile")
      cafile = v;
    else if (a == "--buffer")
      buffer = std::max(0L, std::atol(v.c_str()));
    else if (a == "--per-multi")
      per_multi = std::max(0L, std::atol(v.c_str()));
    else if (a == "--requests")
      requests = std::atoll(v.c_str());
    else if (a == "--duration")
      duration_s = std::atof(v.c_str());
    else if (a == "--warmup")
      warmup_s = std::max(0.0, std::atof(v.c_str()));
    else if (a == "--loop")
      loop = v;
    else if (a == "--epoll")
      epoll_mode = v;
    else if (a == "--size")
      size = static_cast<size_t>(std::atoll(v.c_str()));
    else
      return usage();
  }
  if (url.empty() || (loop != "poll" && loop != "socket") || (epoll_mode != "lazy" && epoll_mode != "eager"))
    return usage();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string body = make_body(size);
  curl_slist* headers = nullptr;
  for (const char* h :
       {"Content-Type: application/json", "User-Agent: volley/0.1.0",
        "webhook-id: evt_3f2a9c1b7d4e5f60000000000000a1b2", "webhook-timestamp: 1767225600",
        "X-Webhook-ID: evt_3f2a9c1b7d4e5f60000000000000a1b2", "X-Webhook-Timestamp: 1767225600",
        "X-Event-Type: bench.event", "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        "X-Webhook-Signature: sha256=2b9a197f337de59f5456ed44b1f4267d535086791"
        "9da98fda3d34337f1ffa48e",
        "Expect:"})
    headers = curl_slist_append(headers, h);

  socket_loop sockets;
  sockets.lazy = epoll_mode == "lazy";
  if (loop == "poll" || per_multi == 0)
    per_multi = handles;
  std::vector<CURLM*> multis; // handle i runs on multis[i / per_multi]
  for (long i = 0; i < handles; i += per_multi) {
    CURLM* m = loop == "socket" ? sockets.add_multi() : curl_multi_init();
    // A cached connection for every transfer: none closed only to be reopened.
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, max_total > 0 ? max_total : std::min(per_multi, handles - i));
    if (max_total > 0)
      curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
    multis.push_back(m);
  }
  CURLM* multi = multis.front(); // the poll loop's only one
  CURLSH* shared = nullptr;
  if (share) {
    shared = curl_share_init();
    curl_share_setopt(shared, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(shared, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  std::vector<CURL*> easies;
  std::vector<std::string> urls;
  urls.reserve(static_cast<size_t>(handles));
  for (long i = 0; i < handles; ++i) {
    CURL* e = curl_easy_init();
    urls.push_back(url_of(url, i, hosts));
    curl_easy_setopt(e, CURLOPT_URL, urls.back().c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    if (buffer > 0)
      curl_easy_setopt(e, CURLOPT_BUFFERSIZE, buffer);
    if (!cafile.empty())
      curl_easy_setopt(e, CURLOPT_CAINFO, cafile.c_str());
    if (shared)
      curl_easy_setopt(e, CURLOPT_SHARE, shared);
    if (loop == "socket")
      sockets.attach_easy(e);
    easies.push_back(e);
  }

  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto seconds = [](double s) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
  };
  auto counting_from = start + seconds(warmup_s);
  auto deadline = counting_from + seconds(duration_s);
  bool counting = warmup_s <= 0;
  double cpu_at_count = cpu_seconds();
  long ctls_at_count = 0;
  auto count_start = start;
  long long started = 0, done = 0, ok = 0, errors = 0, counted = 0;
  std::string first_error;
  auto multi_of = [&](CURL* e) {
    char* index = nullptr;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &index);
    return multis[static_cast<size_t>(reinterpret_cast<uintptr_t>(index)) / static_cast<size_t>(per_multi)];
  };
  for (size_t i = 0; i < easies.size(); ++i)
    curl_easy_setopt(easies[i], CURLOPT_PRIVATE, reinterpret_cast<void*>(static_cast<uintptr_t>(i)));
  for (auto* e : easies) {
    if (started >= requests)
      break;
    curl_multi_add_handle(multi_of(e), e);
    ++started;
  }
  if (loop == "socket")
    sockets.run_timers();
  std::vector<CURLMsg> finished;
  while (done < started) {
    int running = 0;
    if (loop == "poll")
      curl_multi_perform(multi, &running);
    int left = 0;
    auto now = clock::now();
    if (!counting && now >= counting_from) {
      counting = true;
      count_start = now;
      cpu_at_count = cpu_seconds();
      ctls_at_count = sockets.epoll_ctls;
    }
    bool stop_adding = now >= deadline;
    // Read every message before removing handles: curl_multi_remove_handle
    // walks the messages still queued.
    finished.clear();
    for (auto* m : multis)
      while (CURLMsg* msg = curl_multi_info_read(m, &left))
        if (msg->msg == CURLMSG_DONE)
          finished.push_back(*msg);
    for (const auto& msg : finished) {
      CURL* e = msg.easy_handle;
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      ++done;
      if (msg.data.result == CURLE_OK && status >= 200 && status < 300) {
        ++ok;
        counted += counting && !stop_adding ? 1 : 0;
      } else {
        ++errors;
        if (first_error.empty())
          first_error = msg.data.result != CURLE_OK ? curl_easy_strerror(msg.data.result)
                                                    : "HTTP " + std::to_string(status);
      }
      curl_multi_remove_handle(multi_of(e), e);
      if (!stop_adding && started < requests) {
        curl_multi_add_handle(multi_of(e), e);
        ++started;
      }
    }
    if (stop_adding && counting) {
      // The counted window ends at the deadline; what is still running is
      // not waited for (a slow sink would add its delay to the CPU time).
      break;
    }
    if (done >= started)
      break;
    if (loop == "socket")
      sockets.step();
    else
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  double elapsed = std::chrono::duration<double>(clock::now() - count_start).count();
  double cpu = cpu_seconds() - cpu_at_count;
  long ctls = sockets.epoll_ctls - ctls_at_count;

  for (auto* e : easies) {
    curl_multi_remove_handle(multi_of(e), e);
    curl_easy_cleanup(e);
  }
  for (auto* m : multis)
    curl_multi_cleanup(m);
  if (shared)
    curl_share_cleanup(shared);
  curl_slist_free_all(headers);
  curl_global_cleanup();
  double per_s = elapsed > 0 ? static_cast<double>(counted) / elapsed : 0.0;
  double cpu_us = counted > 0 ? cpu * 1e6 / static_cast<double>(counted) : 0.0;
  std::printf(
    "{\"requests\":%lld,\"ok\":%lld,\"errors\":%lld,\"counted\":%lld,\"elapsed_s\":%.3f,"
    "\"req_per_s\":%.1f,\"cpu_s\":%.3f,\"cpu_us_per_req\":%.2f,\"epoll_ctl_per_req\":%.3f,"
    "\"peak_rss_mb\":%.1f,\"loop\":\"%s\",\"epoll\":\"%s\",\"handles\":%ld,\"hosts\":%ld,\"multis\":%zu,"
    "\"body_bytes\":%zu,\"first_error\":\"%s\"}\n",
    done, ok, errors, counted, elapsed, per_s, cpu, cpu_us,
    counted > 0 ? static_cast<double>(ctls) / static_cast<double>(counted) : 0.0,
    static_cast<double>(peak_rss_kb()) / 1024.0, loop.c_str(), epoll_mode.c_str(), handles, hosts,
    multis.size(), body.size(), first_error.c_str());
  return ok > 0 && errors == 0 ? 0 : 1;
}
