// bench/curl_ceiling: the ceiling of Volley's HTTP stack. A bare libcurl
// multi loop — no actors, no disk, no per-request allocation — POSTs one
// body through `--handles` easy handles, re-adding each handle as soon as it
// completes (curl_multi_perform + curl_multi_poll, as Volley's engine does).
// The body and header set look like Volley's deliveries (webhook-* and
// X-Webhook-* headers, both signature forms), with fixed values.
//
// Stops after --requests completions or --duration seconds. Prints one JSON
// object on stdout.
//
// --loop poll (default): curl_multi_perform + curl_multi_poll.
// --loop socket: epoll + curl_multi_socket_action, curl telling us which
// sockets to watch and when its next timeout is due.
//
// Usage: curl_ceiling --url URL [--handles 64] [--requests 200000]
//                     [--duration 20] [--size 100] [--loop poll|socket]

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

// --loop socket: the sockets curl wants watched, in one epoll set.
struct socket_loop {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  long timeout_ms = -1; // curl's next timeout; -1: none

  static int on_socket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto* self = static_cast<socket_loop*>(user);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.data.fd = s;
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, s, &ev) != 0)
      epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, s, &ev);
    return 0;
  }

  static int on_timer(CURLM*, long timeout, void* user) {
    static_cast<socket_loop*>(user)->timeout_ms = timeout;
    return 0;
  }

  void attach(CURLM* multi) {
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }

  // One round: wait for ready sockets (or curl's timeout) and let curl act.
  void step(CURLM* multi) {
    epoll_event events[256];
    int wait_ms = timeout_ms < 0 ? 1000 : static_cast<int>(timeout_ms);
    int n = epoll_wait(epoll_fd, events, 256, wait_ms);
    int running = 0;
    if (n <= 0) {
      timeout_ms = -1;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      return;
    }
    for (int i = 0; i < n; ++i) {
      int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                  (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                  (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, events[i].data.fd, flags, &running);
    }
    if (timeout_ms == 0) {
      timeout_ms = -1;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
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

int usage() {
  std::fprintf(stderr, "usage: curl_ceiling --url URL [--handles 64] [--requests 200000] "
                       "[--duration 20] [--size 100] [--loop poll|socket]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::string url;
  long handles = 64;
  long long requests = 200000;
  double duration_s = 20;
  size_t size = 100;
  std::string loop = "poll";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return usage();
    std::string v = argv[++i];
    if (a == "--url")
      url = v;
    else if (a == "--handles")
      handles = std::max(1L, std::atol(v.c_str()));
    else if (a == "--requests")
      requests = std::atoll(v.c_str());
    else if (a == "--duration")
      duration_s = std::atof(v.c_str());
    else if (a == "--loop")
      loop = v;
    else if (a == "--size")
      size = static_cast<size_t>(std::atoll(v.c_str()));
    else
      return usage();
  }
  if (url.empty() || (loop != "poll" && loop != "socket"))
    return usage();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string body = make_body(size);
  curl_slist* headers = nullptr;
  for (const char* h :
       {"Content-Type: application/json", "User-Agent: volley/0.1.0",
        "webhook-id: evt_3f2a9c1b7d4e5f60000000000000a1b2", "webhook-timestamp: 1767225600",
        "X-Webhook-ID: evt_3f2a9c1b7d4e5f60000000000000a1b2", "X-Webhook-Timestamp: 1767225600",
        "X-Event-Type: bench.event",
        "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        "X-Webhook-Signature: sha256=2b9a197f337de59f5456ed44b1f4267d535086791"
        "9da98fda3d34337f1ffa48e",
        "Expect:"})
    headers = curl_slist_append(headers, h);

  CURLM* multi = curl_multi_init();
  socket_loop sockets;
  if (loop == "socket")
    sockets.attach(multi);
  std::vector<CURL*> easies;
  for (long i = 0; i < handles; ++i) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    easies.push_back(e);
  }

  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto deadline = start + std::chrono::duration_cast<clock::duration>(
                            std::chrono::duration<double>(duration_s));
  long long started = 0, done = 0, ok = 0, errors = 0;
  std::string first_error;
  for (auto* e : easies) {
    if (started >= requests)
      break;
    curl_multi_add_handle(multi, e);
    ++started;
  }
  if (loop == "socket") {
    int running = 0;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  while (done < started) {
    int running = 0;
    if (loop == "poll")
      curl_multi_perform(multi, &running);
    int left = 0;
    bool stop_adding = clock::now() >= deadline;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      CURL* e = msg->easy_handle;
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      ++done;
      if (msg->data.result == CURLE_OK && status >= 200 && status < 300) {
        ++ok;
      } else {
        ++errors;
        if (first_error.empty())
          first_error = msg->data.result != CURLE_OK ? curl_easy_strerror(msg->data.result)
                                                     : "HTTP " + std::to_string(status);
      }
      curl_multi_remove_handle(multi, e);
      if (!stop_adding && started < requests) {
        curl_multi_add_handle(multi, e);
        ++started;
      }
    }
    if (done >= started)
      break;
    if (loop == "socket")
      sockets.step(multi);
    else
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  double elapsed = std::chrono::duration<double>(clock::now() - start).count();

  for (auto* e : easies)
    curl_easy_cleanup(e);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  curl_global_cleanup();
  std::printf("{\"requests\":%lld,\"ok\":%lld,\"errors\":%lld,\"elapsed_s\":%.3f,"
              "\"req_per_s\":%.1f,\"loop\":\"%s\",\"handles\":%ld,\"body_bytes\":%zu,\"first_error\":\"%s\"}\n",
              done, ok, errors, elapsed, elapsed > 0 ? static_cast<double>(ok) / elapsed : 0.0,
              loop.c_str(), handles, body.size(), first_error.c_str());
  return ok > 0 && errors == 0 ? 0 : 1;
}
