#include "http/http_engine.hpp"

#include "http/address_policy.hpp"
#include "logging/logger.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <strings.h>
#include <thread>
#include <unordered_set>
#include <unistd.h>

namespace volley {

namespace {

// One easy handle with the state of the transfer it runs. Kept and reused
// after the transfer ends: the options that never change are set once, and
// the rest only when they differ from the previous request's.
struct transfer {
  CURL* easy = nullptr;
  http_request request;
  attempt_result result;
  std::vector<curl_slist> header_nodes; // point into request.headers
  std::string url;                      // the URL set on `easy`
  int tls_insecure = -1;                // as set on `easy`; -1: not yet
  bool allow_private = false;
  std::string refused_address; // set when the SSRF guard refused the connect
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

curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<transfer*>(user);
  if (!t->allow_private && is_restricted_address(&address->addr)) {
    t->refused_address = address_to_string(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

} // namespace

struct http_engine::impl {
  http_engine_options options;
  std::atomic<size_t>& in_flight;
  CURLM* multi = nullptr;
  std::mutex queue_mutex;
  std::vector<http_request> incoming; // guarded by queue_mutex
  bool stopping = false;               // guarded by queue_mutex
  // Set while the engine thread is (about to be) blocked in curl_multi_poll:
  // only then does a submit need the wakeup syscall.
  std::atomic<bool> sleeping{false};
  std::deque<http_request> waiting;    // engine thread only: over max_concurrent
  std::vector<std::unique_ptr<transfer>> idle; // engine thread only; at most max_concurrent
  std::unordered_set<transfer*> running; // engine thread only
  std::thread worker;

  impl(http_engine_options opts, std::atomic<size_t>& counter)
    : options(opts), in_flight(counter) {
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
    worker = std::thread{[this] { run(); }};
  }

  ~impl() {
    idle.clear(); // easy handles go before the multi handle
    curl_multi_cleanup(multi);
  }

  static transfer* make_transfer(bool allow_private) {
    auto* t = new transfer;
    t->allow_private = allow_private;
    auto* e = t->easy = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, capture_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    return t;
  }

  void start(http_request&& req) {
    transfer* t;
    if (idle.empty()) {
      t = make_transfer(options.allow_private_networks);
    } else {
      t = idle.back().release();
      idle.pop_back();
    }
    t->request = std::move(req);
    t->result = attempt_result{};
    t->refused_address.clear();
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
    const auto& body = *t->request.body;
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_nodes.data());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t->request.timeout_ms));
    running.insert(t);
    if (auto rc = curl_multi_add_handle(multi, e); rc != CURLM_OK) {
      t->result.error = std::string{"cannot start request: "} + curl_multi_strerror(rc);
      finish(t);
    }
  }

  void complete(CURL* easy, CURLcode code) {
    transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    curl_multi_remove_handle(multi, easy);
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
      t->result.error = "refused to connect to " + t->refused_address +
                        ": private or loopback address (set allow_private_networks to allow)";
    } else {
      t->result.error = t->error_buffer[0] != '\0' ? t->error_buffer : curl_easy_strerror(code);
    }
    finish(t);
  }

  void finish(transfer* t) {
    if (t->request.on_done)
      t->request.on_done(std::move(t->result));
    running.erase(t);
    // The request (body, callback) is released now, the handle kept.
    t->request = http_request{};
    idle.emplace_back(t);
    in_flight.fetch_sub(1, std::memory_order_relaxed);
  }

  bool take_incoming(std::vector<http_request>& batch) {
    std::lock_guard<std::mutex> guard{queue_mutex};
    batch.swap(incoming);
    return !stopping;
  }

  void run() {
    std::vector<http_request> batch;
    for (;;) {
      if (!take_incoming(batch))
        break;
      for (auto& req : batch)
        waiting.push_back(std::move(req));
      batch.clear();
      while (!waiting.empty() && running.size() < options.max_concurrent) {
        start(std::move(waiting.front()));
        waiting.pop_front();
      }
      int still_running = 0;
      curl_multi_perform(multi, &still_running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left))
        if (msg->msg == CURLMSG_DONE)
          complete(msg->easy_handle, msg->data.result);
      sleeping.store(true);
      {
        // Work that arrived since take_incoming: no sleep.
        std::lock_guard<std::mutex> guard{queue_mutex};
        if (!incoming.empty() || stopping)
          sleeping.store(false);
      }
      if (sleeping.load() && (waiting.empty() || running.size() >= options.max_concurrent))
        curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
      sleeping.store(false);
    }
    abort_all();
  }

  // On shutdown: drop running transfers without reporting them; the
  // deliveries stay pending on disk and are retried after the restart.
  void abort_all() {
    waiting.clear();
    auto left = running;
    for (auto* t : left) {
      curl_multi_remove_handle(multi, t->easy);
      t->request.on_done = nullptr;
      finish(t);
    }
  }
};

http_engine::http_engine(http_engine_options options) {
  auto n = std::max<size_t>(options.threads, 1);
  // The cap on running transfers and cached connections is the engine's:
  // each thread gets its share.
  options.max_concurrent = std::max<size_t>(options.max_concurrent / n, 1);
  options.max_cached_connections = std::max<long>(options.max_cached_connections / static_cast<long>(n), 1);
  for (size_t i = 0; i < n; ++i)
    shards_.push_back(std::make_unique<impl>(options, in_flight_));
}

http_engine::~http_engine() { stop(); }

void http_engine::submit(std::vector<http_request>&& batch) {
  if (batch.empty())
    return;
  // One by one over the threads, continuing where the last batch stopped.
  auto n = shards_.size();
  auto first = next_shard_.fetch_add(batch.size(), std::memory_order_relaxed);
  for (size_t k = 0; k < n && k < batch.size(); ++k) {
    auto& shard = *shards_[(first + k) % n];
    {
      std::lock_guard<std::mutex> guard{shard.queue_mutex};
      if (shard.stopping)
        continue;
      for (size_t i = k; i < batch.size(); i += n) {
        shard.incoming.push_back(std::move(batch[i]));
        in_flight_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (shard.sleeping.exchange(false))
      curl_multi_wakeup(shard.multi);
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
    curl_multi_wakeup(shard->multi);
  }
  for (auto& shard : shards_)
    if (shard->worker.joinable())
      shard->worker.join();
}

} // namespace volley
