#define BOOST_TEST_MODULE http_engine
#include <boost/test/unit_test.hpp>

#include "delivery/backoff.hpp"
#include "http/address_policy.hpp"
#include "http/http_engine.hpp"
#include "http/transfer_placement.hpp"
#include "receiver/http_receiver.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace volley;

namespace {

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~curl_global() { curl_global_cleanup(); }
};
BOOST_TEST_GLOBAL_FIXTURE(curl_global);

// Collects the completions the engine reports on its own thread.
class completions {
public:
  std::function<void(attempt_result&&)> callback() {
    return [this](attempt_result&& r) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        results_.push_back(std::move(r));
      }
      changed_.notify_all();
    };
  }

  bool wait_for(size_t count, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return results_.size() >= count; });
  }

  std::vector<attempt_result> all() {
    std::lock_guard<std::mutex> lock(mutex_);
    return results_;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return results_.size();
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<attempt_result> results_;
};

// Remembers what the receiver saw. The receiver serves each connection on a
// thread of its own, so a thread-local flag tells a new connection apart.
class request_log {
public:
  void add(const received_request& request) {
    thread_local bool connection_counted = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(request);
      if (!connection_counted)
        ++connections_;
    }
    connection_counted = true;
    changed_.notify_all();
  }

  bool wait_for(size_t count, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  }

  std::vector<received_request> all() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  size_t connections() {
    std::lock_guard<std::mutex> lock(mutex_);
    return connections_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<received_request> requests_;
  size_t connections_ = 0;
};

receiver_handler answering(request_log& log, receiver_reply reply = {}) {
  return [&log, reply](const received_request& request) {
    log.add(request);
    return reply;
  };
}

std::string url_for(uint16_t port, const std::string& path = "/hooks") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

http_request make_request(std::string url, completions& done, std::string body = "{}",
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          uint64_t timeout_ms = 5000) {
  http_request r;
  r.url = std::move(url);
  r.body = std::make_shared<const std::string>(std::move(body));
  for (const auto& [name, value] : headers)
    r.headers.add(name, value);
  r.timeout_ms = timeout_ms;
  r.on_done = done.callback();
  return r;
}

http_engine_options loopback_allowed(size_t threads = 2) {
  http_engine_options o;
  o.allow_private_networks = true;
  o.threads = threads;
  return o;
}

// Sends one request and returns its result (fails the test on no answer).
attempt_result round_trip(http_engine& engine, http_request&& request, completions& done) {
  auto before = done.size();
  engine.submit(std::move(request));
  BOOST_REQUIRE(done.wait_for(before + 1));
  return done.all()[before];
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.erase(0, 1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.pop_back();
  return text;
}

// in_flight drops just after the callback returns, so wait for it.
bool in_flight_becomes(http_engine& engine, size_t n) {
  return test::wait_until([&] { return engine.in_flight() == n; }, 10s);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

sockaddr_storage address_of(const std::string& text) {
  sockaddr_storage storage{};
  if (text.find(':') == std::string::npos) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    BOOST_REQUIRE(inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    BOOST_REQUIRE(inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1);
  }
  return storage;
}

bool restricted(const std::string& text) {
  auto storage = address_of(text);
  return is_restricted_address(reinterpret_cast<const sockaddr*>(&storage));
}

// The server side of OpenSSL, looked up at run time: the tests link
// libcrypto (signatures) but not libssl, and the client side is libcurl's.
class libssl {
public:
  libssl() : handle_(dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL)) {}
  ~libssl() {
    if (handle_)
      dlclose(handle_);
  }
  explicit operator bool() const { return handle_ != nullptr; }
  template <class F>
  F get(const char* name) const {
    return reinterpret_cast<F>(dlsym(handle_, name));
  }

private:
  void* handle_;
};
#define SSL_FN(lib, name) (lib).get<decltype(&name)>(#name)

// A private CA and a certificate for 127.0.0.1 it signed, made by the
// openssl command line tool.
struct private_ca {
  test::temp_dir dir;
  std::string ca = dir.file("ca.pem");
  std::string cert = dir.file("server.pem");
  std::string key = dir.file("server.key");

  bool make() {
    test::write_file(dir.file("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    auto ec = std::string{" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"};
    auto in = [&](const std::string& cmd) {
      return std::system(("cd " + dir.path() + " && " + cmd + " >openssl.log 2>&1").c_str()) == 0;
    };
    return in("openssl req -x509" + ec +
              " -keyout ca.key -out ca.pem -days 2"
              " -subj '/CN=Volley test CA'") &&
           in("openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1") &&
           in("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
              " -out server.pem -days 2 -extfile ext.cnf");
  }
};

// An HTTPS receiver on 127.0.0.1: a thread per connection, answers every
// POST with 200. Counts the requests it answered.
class tls_receiver {
public:
  tls_receiver(const libssl& ssl, const std::string& cert, const std::string& key) : ssl_(ssl) {
    ctx_ = SSL_FN(ssl_, SSL_CTX_new)(SSL_FN(ssl_, TLS_server_method)());
    BOOST_REQUIRE(ctx_ != nullptr);
    BOOST_REQUIRE(SSL_FN(ssl_, SSL_CTX_use_certificate_chain_file)(ctx_, cert.c_str()) == 1);
    BOOST_REQUIRE(SSL_FN(ssl_, SSL_CTX_use_PrivateKey_file)(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    BOOST_REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::listen(listen_fd_, 16) == 0);
    BOOST_REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] { serve(); }};
  }

  ~tls_receiver() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR); // wakes accept()
    thread_.join();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : open_) // wakes their reads
        ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : connections_)
      t.join();
    ::close(listen_fd_);
    SSL_FN(ssl_, SSL_CTX_free)(ctx_);
  }

  uint16_t port() const { return port_; }
  size_t answered() const { return answered_.load(); }

private:
  void serve() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        return;
      std::lock_guard<std::mutex> lock(mutex_);
      open_.push_back(fd);
      connections_.emplace_back([this, fd] { serve_connection(fd); });
    }
  }

  void serve_connection(int fd) {
    SSL* ssl = SSL_FN(ssl_, SSL_new)(ctx_);
    SSL_FN(ssl_, SSL_set_fd)(ssl, fd);
    if (SSL_FN(ssl_, SSL_accept)(ssl) == 1)
      answer_requests(ssl);
    SSL_FN(ssl_, SSL_free)(ssl);
    std::lock_guard<std::mutex> lock(mutex_);
    open_.erase(std::find(open_.begin(), open_.end(), fd));
    ::close(fd);
  }

  // Reads requests (Content-Length bodies) until the client closes.
  void answer_requests(SSL* ssl) {
    std::string in;
    char buf[4096];
    for (;;) {
      auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = in.substr(0, head_end);
        for (auto& c : head)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t length = 0;
        if (auto at = head.find("content-length:"); at != std::string::npos)
          length = std::stoul(head.substr(at + 15));
        if (in.size() >= head_end + 4 + length) {
          in.erase(0, head_end + 4 + length);
          static const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
          // Counted before it is sent: the client may read it before this
          // thread runs again.
          ++answered_;
          if (SSL_FN(ssl_, SSL_write)(ssl, ok.data(), static_cast<int>(ok.size())) <= 0)
            return;
          continue;
        }
      }
      int n = SSL_FN(ssl_, SSL_read)(ssl, buf, sizeof buf);
      if (n <= 0)
        return;
      in.append(buf, static_cast<size_t>(n));
    }
  }

  const libssl& ssl_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> answered_{0};
  std::mutex mutex_;
  std::vector<int> open_;                // connections being served
  std::vector<std::thread> connections_; // joined at the end
  std::thread thread_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(requests)

BOOST_AUTO_TEST_CASE(post_body_and_headers_arrive_intact) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{loopback_allowed()};

  // Larger than curl's 1 KiB "Expect: 100-continue" threshold, every byte value.
  std::string body = R"({"id":"evt_1","data":")";
  for (int i = 0; i < 100000; ++i)
    body += static_cast<char>(1 + i % 255);
  body += "\"}";
  auto result = round_trip(engine,
                           make_request(url_for(receiver.port(), "/hooks/billing?x=1"), done, body,
                                        {{"Content-Type", "application/json"},
                                         {"webhook-id", "evt_1"},
                                         {"webhook-signature", "v1,abc= v1,def="},
                                         {"X-Event-Type", "order.created"}}),
                           done);
  BOOST_TEST(result.status == 200);
  BOOST_TEST(!result.timed_out);
  BOOST_TEST(result.error.empty());
  BOOST_TEST(result.latency_ms >= 0.0);

  BOOST_REQUIRE(log.wait_for(1));
  auto req = log.all().at(0);
  BOOST_TEST(req.method == "POST");
  BOOST_TEST(req.target == "/hooks/billing?x=1");
  BOOST_TEST(req.body.size() == body.size());
  BOOST_TEST((req.body == body));
  BOOST_TEST(req.header("content-type") == "application/json");
  BOOST_TEST(req.header("webhook-id") == "evt_1");
  BOOST_TEST(req.header("webhook-signature") == "v1,abc= v1,def=");
  BOOST_TEST(req.header("x-event-type") == "order.created");
  BOOST_TEST(req.header("content-length") == std::to_string(body.size()));
  BOOST_TEST(req.header("expect").empty());
  for (const auto& [name, value] : req.headers)
    BOOST_TEST(name != "expect", "request carried Expect: " << value);
  size_t content_types = 0;
  for (const auto& [name, value] : req.headers)
    content_types += name == "content-type" ? 1 : 0;
  BOOST_TEST(content_types == 1u);
}

BOOST_AUTO_TEST_CASE(empty_body_is_posted) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{loopback_allowed()};
  auto result = round_trip(engine, make_request(url_for(receiver.port()), done, ""), done);
  BOOST_TEST(result.status == 200);
  BOOST_REQUIRE(log.wait_for(1));
  BOOST_TEST(log.all().at(0).method == "POST");
  BOOST_TEST(log.all().at(0).body.empty());
}

// The engine keeps easy handles and only changes what differs between
// requests: nothing of one request may leak into the next.
BOOST_AUTO_TEST_CASE(a_reused_handle_carries_only_its_own_request) {
  request_log first_log, second_log;
  http_receiver first{answering(first_log)};
  http_receiver second{answering(second_log)};
  completions done;
  http_engine engine{loopback_allowed()};
  auto a = round_trip(engine,
                      make_request(url_for(first.port(), "/a"), done, std::string(5000, 'a'),
                                   {{"webhook-id", "evt_a"}, {"X-Only-A", "yes"}}),
                      done);
  auto b = round_trip(
    engine, make_request(url_for(second.port(), "/b"), done, "{\"b\":1}", {{"webhook-id", "evt_b"}}, 3000),
    done);
  BOOST_TEST(a.status == 200);
  BOOST_TEST(b.status == 200);
  BOOST_REQUIRE(first_log.wait_for(1));
  BOOST_REQUIRE(second_log.wait_for(1));
  BOOST_TEST(first_log.all().size() == 1u);
  auto rb = second_log.all().at(0);
  BOOST_TEST(rb.target == "/b");
  BOOST_TEST(rb.body == "{\"b\":1}");
  BOOST_TEST(rb.header("webhook-id") == "evt_b");
  BOOST_TEST(rb.header("x-only-a").empty());
  BOOST_TEST(rb.header("content-length") == "7");
  // And back to the first URL on the same (now idle) handle.
  auto c = round_trip(engine, make_request(url_for(first.port(), "/c"), done, ""), done);
  BOOST_TEST(c.status == 200);
  BOOST_REQUIRE(first_log.wait_for(2));
  BOOST_TEST(first_log.all().at(1).target == "/c");
  BOOST_TEST(first_log.all().at(1).header("webhook-id").empty());
}

BOOST_AUTO_TEST_CASE(status_codes_are_reported) {
  std::atomic<int> next_status{200};
  http_receiver receiver{[&](const received_request&) {
    receiver_reply reply;
    reply.status = next_status.load();
    reply.body = "answer body that is read and discarded";
    return reply;
  }};
  completions done;
  http_engine engine{loopback_allowed()};
  for (int code : {200, 201, 204, 400, 404, 410, 422, 429, 500, 503}) {
    next_status = code;
    auto result = round_trip(engine, make_request(url_for(receiver.port()), done), done);
    BOOST_TEST_INFO("status " << code);
    BOOST_TEST(result.status == code);
    BOOST_TEST(!result.timed_out);
    BOOST_TEST(result.error.empty());
  }
}

// The engine reads answers through a small buffer: one far larger than it,
// with a long header before Retry-After, is still read whole.
BOOST_AUTO_TEST_CASE(answers_larger_than_the_receive_buffer_are_read_whole) {
  request_log log;
  receiver_reply big;
  big.status = 503;
  big.headers = {{"X-Padding", std::string(6000, 'p')}, {"Retry-After", "7"}};
  big.body = std::string(200000, 'b');
  http_receiver receiver{answering(log, big)};
  completions done;
  http_engine engine{loopback_allowed()};
  for (int i = 0; i < 3; ++i) {
    auto result = round_trip(engine, make_request(url_for(receiver.port()), done), done);
    BOOST_TEST(result.status == 503);
    BOOST_TEST(trimmed(result.retry_after) == "7");
    BOOST_TEST(result.error.empty());
  }
  BOOST_TEST(log.wait_for(3));
}

BOOST_AUTO_TEST_CASE(retry_after_header_is_captured) {
  std::atomic<int> round{0};
  http_receiver receiver{[&](const received_request&) {
    receiver_reply reply;
    switch (round.load()) {
      case 0:
        reply.status = 429;
        reply.headers = {{"Retry-After", "120"}};
        break;
      case 1:
        reply.status = 503;
        reply.headers = {{"RETRY-AFTER", "Wed, 21 Oct 2015 07:28:00 GMT"}};
        break;
      default:
        reply.status = 503; // none this time
        break;
    }
    return reply;
  }};
  completions done;
  http_engine engine{loopback_allowed()};

  // The value as the backoff policy reads it (surrounding blanks aside).
  auto first = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  BOOST_TEST(first.status == 429);
  BOOST_TEST(trimmed(first.retry_after) == "120");
  BOOST_TEST(parse_retry_after_ms(first.retry_after, 0).value_or(0) == 120000u);

  round = 1;
  auto second = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  BOOST_TEST(second.status == 503);
  BOOST_TEST(trimmed(second.retry_after) == "Wed, 21 Oct 2015 07:28:00 GMT");
  BOOST_TEST(parse_retry_after_ms(second.retry_after, 1445412480000 - 5000).value_or(0) == 5000u);

  round = 2; // same (reused) connection: nothing may leak from the previous answer
  auto third = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  BOOST_TEST(third.status == 503);
  BOOST_TEST(third.retry_after.empty());
}

BOOST_AUTO_TEST_CASE(timeout_is_reported_as_timed_out) {
  request_log log;
  receiver_reply hang;
  hang.hang = true;
  http_receiver receiver{answering(log, hang)};
  completions done;
  http_engine engine{loopback_allowed()};
  auto started = std::chrono::steady_clock::now();
  auto result = round_trip(engine, make_request(url_for(receiver.port()), done, "{}", {}, 200), done);
  auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(result.timed_out);
  BOOST_TEST(result.status == 0);
  BOOST_TEST(!result.error.empty());
  BOOST_TEST((elapsed >= 150ms));     // a lower bound: no machine is too slow for it
  BOOST_TEST(log.all().size() == 1u); // it did reach the receiver
  BOOST_TEST(in_flight_becomes(engine, 0));
}

BOOST_AUTO_TEST_CASE(connection_refused_is_an_error) {
  completions done;
  http_engine engine{loopback_allowed()};
  auto port = test::free_port(); // nothing listens there
  auto result = round_trip(engine, make_request(url_for(port), done), done);
  BOOST_TEST(result.status == 0);
  BOOST_TEST(!result.timed_out);
  BOOST_TEST(!result.error.empty());
  BOOST_TEST(!contains(result.error, "allow_private_networks"));
}

BOOST_AUTO_TEST_CASE(reset_connection_is_an_error) {
  request_log log;
  receiver_reply reset;
  reset.reset = true;
  http_receiver receiver{answering(log, reset)};
  completions done;
  http_engine engine{loopback_allowed()};
  auto result = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  BOOST_TEST(result.status == 0);
  BOOST_TEST(!result.timed_out);
  BOOST_TEST(!result.error.empty());
}

BOOST_AUTO_TEST_CASE(redirects_are_not_followed) {
  request_log log;
  http_receiver receiver{[&](const received_request& request) {
    log.add(request);
    receiver_reply reply;
    if (request.target == "/hooks") {
      reply.status = 302;
      reply.headers = {{"Location", "/elsewhere"}};
    }
    return reply;
  }};
  completions done;
  http_engine engine{loopback_allowed()};
  auto result = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  BOOST_TEST(result.status == 302);
  BOOST_TEST(result.error.empty());
  // Another request round trip proves nothing else is still on its way.
  auto second = round_trip(engine, make_request(url_for(receiver.port(), "/probe"), done), done);
  BOOST_TEST(second.status == 200);
  auto seen = log.all();
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].target == "/hooks");
  BOOST_TEST(seen[1].target == "/probe");
}

BOOST_AUTO_TEST_CASE(sequential_requests_reuse_the_connection) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{loopback_allowed(1)}; // each engine thread has its own connections
  for (int i = 0; i < 50; ++i) {
    auto result = round_trip(
      engine, make_request(url_for(receiver.port()), done, "{\"n\":" + std::to_string(i) + "}"), done);
    BOOST_TEST(result.status == 200);
  }
  BOOST_TEST(log.all().size() == 50u);
  BOOST_TEST(log.connections() >= 1u);
  BOOST_TEST_MESSAGE("50 sequential requests used " << log.connections() << " connection(s)");
  BOOST_TEST(log.connections() <= 2u, "50 requests used " << log.connections() << " connections");
}

BOOST_AUTO_TEST_CASE(connection_counting_sees_separate_connections) {
  // The check above is only worth something if two connections count as two:
  // two engines do not share a connection cache.
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine first{loopback_allowed(1)};
  http_engine second{loopback_allowed(1)};
  BOOST_TEST(round_trip(first, make_request(url_for(receiver.port()), done), done).status == 200);
  BOOST_TEST(round_trip(second, make_request(url_for(receiver.port()), done), done).status == 200);
  BOOST_TEST(round_trip(first, make_request(url_for(receiver.port()), done), done).status == 200);
  BOOST_TEST(log.connections() == 2u);
}

BOOST_AUTO_TEST_CASE(batch_completes_every_request_once) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{loopback_allowed(3)};
  std::vector<http_request> batch;
  for (int i = 0; i < 40; ++i)
    batch.push_back(make_request(url_for(receiver.port(), "/n/" + std::to_string(i)), done));
  engine.submit(std::move(batch));
  BOOST_REQUIRE(done.wait_for(40));
  BOOST_REQUIRE(log.wait_for(40));
  for (const auto& r : done.all())
    BOOST_TEST(r.status == 200);
  std::vector<bool> seen(40, false);
  for (const auto& req : log.all())
    seen.at(std::stoul(req.target.substr(3))) = true;
  for (int i = 0; i < 40; ++i)
    BOOST_TEST(seen[i], "request " << i << " never arrived");
  BOOST_TEST(in_flight_becomes(engine, 0));
  BOOST_TEST(done.size() == 40u);
}

// Counts on_done calls and what the latest raise() found done.
class counting_signal : public result_signal {
public:
  void done() { ++done_; }
  void raise() override {
    ++raised_;
    seen_at_raise_ = done_.load();
  }
  size_t done_count() const { return done_; }
  size_t raised() const { return raised_; }
  size_t seen_at_raise() const { return seen_at_raise_; }

private:
  std::atomic<size_t> done_{0}, raised_{0}, seen_at_raise_{0};
};

BOOST_AUTO_TEST_CASE(a_signal_is_raised_after_the_results_it_stands_for) {
  request_log log;
  http_receiver receiver{answering(log)};
  auto signal = std::make_shared<counting_signal>();
  http_engine engine{loopback_allowed(2)};
  std::vector<http_request> batch;
  for (int i = 0; i < 200; ++i) { // past a thread's light load: both threads take some
    http_request r;
    r.url = url_for(receiver.port(), "/n/" + std::to_string(i));
    r.body = std::make_shared<const std::string>("{}");
    r.on_done = [s = signal.get()](attempt_result&&) { s->done(); };
    r.signal = signal;
    batch.push_back(std::move(r));
  }
  engine.submit(std::move(batch));
  // The last raise comes after the last result: an owner woken by it misses none.
  BOOST_TEST(test::wait_until([&] { return signal->seen_at_raise() == 200; }, 10s));
  BOOST_TEST(signal->done_count() == 200u);
  BOOST_TEST(in_flight_becomes(engine, 0));
}

BOOST_AUTO_TEST_CASE(slow_endpoint_does_not_hold_up_a_fast_one) {
  request_log slow_log;
  receiver_reply hang;
  hang.hang = true;
  http_receiver slow{answering(slow_log, hang)};
  request_log fast_log;
  http_receiver fast{answering(fast_log)};
  completions slow_done;
  completions fast_done;
  http_engine engine{loopback_allowed()};
  engine.submit(make_request(url_for(slow.port()), slow_done, "{}", {}, 30000));
  BOOST_REQUIRE(slow_log.wait_for(1));
  for (int i = 0; i < 5; ++i) {
    auto r = round_trip(engine, make_request(url_for(fast.port()), fast_done), fast_done);
    BOOST_TEST(r.status == 200);
  }
  BOOST_TEST(slow_done.size() == 0u);
  BOOST_TEST(in_flight_becomes(engine, 1)); // the hanging one
}

BOOST_AUTO_TEST_CASE(stop_drops_running_transfers_without_callbacks) {
  request_log log;
  receiver_reply hang;
  hang.hang = true;
  http_receiver receiver{answering(log, hang)};
  completions done;
  http_engine engine{loopback_allowed()};
  engine.submit(make_request(url_for(receiver.port()), done, "{}", {}, 30000));
  BOOST_REQUIRE(log.wait_for(1));
  engine.stop(); // returns although the request would hang for 30 s
  BOOST_TEST(done.size() == 0u);
  BOOST_TEST(engine.in_flight() == 0u);
  // After stop() requests are dropped, not completed.
  engine.submit(make_request(url_for(receiver.port()), done));
  BOOST_TEST(done.size() == 0u);
  BOOST_TEST(engine.in_flight() == 0u);
  engine.stop(); // idempotent
}

// Subscribers ask for room before they sign: the engine takes the
// transfers it runs and a quarter more (all of them again when fewer than
// 64), and wakes a waiter when one ends.
BOOST_AUTO_TEST_CASE(past_its_capacity_the_engine_has_no_room_until_a_request_ends) {
  request_log log;
  receiver_reply hang;
  hang.hang = true;
  http_receiver receiver{answering(log, hang)};
  completions done;
  auto options = loopback_allowed(1);
  options.max_concurrent = 2;
  {
    auto many = options;
    many.max_concurrent = 16384;
    http_engine large{many};
    BOOST_TEST(large.room() == 20480u);
    many.max_concurrent = 128;
    http_engine middle{many};
    BOOST_TEST(middle.room() == 192u);
  }
  http_engine engine{options};
  BOOST_TEST(engine.room() == 4u);
  std::vector<http_request> batch;
  for (int i = 0; i < 4; ++i)
    batch.push_back(make_request(url_for(receiver.port()), done, "{}", {}, 30000));
  engine.submit(std::move(batch));
  BOOST_REQUIRE(log.wait_for(2)); // two run, two wait in the engine; none can end
  BOOST_TEST(engine.room() == 0u);
  std::atomic<int> woken{0};
  std::atomic<size_t> done_at_wake{0};
  engine.when_room(1, [&] {
    done_at_wake = done.size();
    ++woken;
  });
  BOOST_TEST(woken == 0);
  receiver.stop(); // the hanging requests end (as errors)
  BOOST_REQUIRE(volley::test::wait_until([&] { return woken == 1; }));
  BOOST_TEST(done_at_wake >= 1u); // woken after a request ended, not before
  BOOST_REQUIRE(done.wait_for(4));
  // A transfer's room comes back just after its completion callback returns.
  BOOST_TEST(volley::test::wait_until([&] { return engine.room() == 4u; }));
  BOOST_TEST(woken == 1); // once
}

// Past transfers_per_multi a thread runs transfers on several multi handles
// (connection caches): every request still completes once, and an origin's
// transfers go back to the handle holding its idle connections.
BOOST_AUTO_TEST_CASE(many_multi_handles_complete_everything_and_reuse_connections) {
  request_log a_log, b_log, c_log;
  http_receiver a{answering(a_log)};
  http_receiver b{answering(b_log)};
  http_receiver c{answering(c_log)};
  completions done;
  auto options = loopback_allowed(1);
  options.max_concurrent = 12;
  options.transfers_per_multi = 2; // up to six multi handles
  http_engine engine{options};
  std::vector<http_request> batch;
  for (int i = 0; i < 60; ++i) {
    auto port = i % 3 == 0 ? a.port() : i % 3 == 1 ? b.port() : c.port();
    batch.push_back(make_request(url_for(port, "/n/" + std::to_string(i)), done));
  }
  engine.submit(std::move(batch));
  BOOST_REQUIRE(done.wait_for(60));
  for (const auto& r : done.all())
    BOOST_TEST(r.status == 200);
  BOOST_REQUIRE(a_log.wait_for(20));
  BOOST_REQUIRE(b_log.wait_for(20));
  BOOST_REQUIRE(c_log.wait_for(20));
  BOOST_TEST(in_flight_becomes(engine, 0));
  BOOST_TEST(done.size() == 60u);
  BOOST_TEST(a_log.all().size() + b_log.all().size() + c_log.all().size() == 60u);
  // A new origin, one request at a time: each goes back to the handle
  // that keeps the first one's connection, so it is the only one opened.
  request_log d_log;
  http_receiver d{answering(d_log)};
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(round_trip(engine, make_request(url_for(d.port()), done), done).status == 200);
  BOOST_TEST(d_log.connections() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tls)

// A receiver whose certificate a private CA signed: refused against the
// system's CAs, trusted once the request names the CA file (tls_ca_file),
// refused again when the next request on the same (reused) handle does not.
BOOST_AUTO_TEST_CASE(a_private_ca_is_trusted_only_with_tls_ca_file) {
  libssl ssl;
  BOOST_REQUIRE_MESSAGE(ssl, "libssl.so.3 not found (Debian's libssl3)");
  private_ca pki;
  BOOST_REQUIRE_MESSAGE(pki.make(), "the openssl tool could not make the certificates: "
                                      << test::read_file(pki.dir.file("openssl.log")));
  tls_receiver receiver{ssl, pki.cert, pki.key};
  completions done;
  http_engine engine{loopback_allowed(1)};
  auto url = "https://127.0.0.1:" + std::to_string(receiver.port()) + "/hooks";
  auto with_ca = [&] {
    auto r = make_request(url, done);
    r.tls_ca_file = pki.ca;
    return r;
  };

  auto refused = round_trip(engine, make_request(url, done), done);
  BOOST_TEST(refused.status == 0);
  BOOST_TEST(contains(refused.error, "certificate"), refused.error);
  BOOST_TEST(receiver.answered() == 0u);

  for (int i = 0; i < 3; ++i) {
    auto trusted = round_trip(engine, with_ca(), done);
    BOOST_TEST(trusted.status == 200, trusted.error);
    BOOST_TEST(trusted.error.empty());
  }
  BOOST_TEST(receiver.answered() == 3u);

  auto again = round_trip(engine, make_request(url, done), done);
  BOOST_TEST(again.status == 0);
  BOOST_TEST(contains(again.error, "certificate"), again.error);
  BOOST_TEST(receiver.answered() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(placement)

BOOST_AUTO_TEST_CASE(origin_is_scheme_host_and_port) {
  BOOST_TEST(origin_of("https://a.example:8443/hooks?x=1") == "https://a.example:8443");
  BOOST_TEST(origin_of("http://a.example") == "http://a.example");
  BOOST_TEST(origin_of("http://a.example?x=/y") == "http://a.example");
  BOOST_TEST(origin_of("http://[::1]:80/p") == "http://[::1]:80");
}

BOOST_AUTO_TEST_CASE(origins_spread_over_threads_and_over_each_threads_multi_handles) {
  BOOST_TEST(home_thread("http://a", 1) == 0u);
  for (size_t threads : {2, 3, 8})
    BOOST_TEST(home_thread("http://a:80", threads) < threads);
  // 64 origins over 2 threads; within a thread, over its 8 handles.
  std::vector<int> per_thread(2);
  std::vector<std::set<size_t>> handles(2);
  transfer_placement p{1, 8};
  for (int i = 1; i <= 64; ++i) {
    auto origin = "http://127.0.0." + std::to_string(i) + ":8080";
    auto t = home_thread(origin, 2);
    BOOST_REQUIRE(t < 2u);
    ++per_thread[t];
    handles[t].insert(p.place(origin).multi);
  }
  BOOST_TEST(per_thread[0] >= 16);
  BOOST_TEST(per_thread[1] >= 16);
  // The thread's pick must not decide the handle's too: with the plain hash
  // for both, a thread's origins would share half of its handles.
  BOOST_TEST(handles[0].size() >= 6u);
  BOOST_TEST(handles[1].size() >= 6u);
}

BOOST_AUTO_TEST_CASE(an_origin_runs_on_its_first_home_while_it_has_room) {
  transfer_placement p{4, 8};
  BOOST_TEST(p.per_home() == 8u);
  std::vector<transfer_placement::spot> a;
  for (int i = 0; i < 8; ++i)
    a.push_back(p.place("http://a"));
  for (const auto& s : a)
    BOOST_TEST(s.multi == a[0].multi);
  // Busier than that: a second home, elsewhere.
  auto spill = p.place("http://a");
  BOOST_TEST(spill.multi != a[0].multi);
  BOOST_TEST(p.running(a[0].multi) == 8u);
  BOOST_TEST(p.running(spill.multi) == 1u);
  // Room on the first home again: back there, where its connections are.
  p.release(a[1]);
  BOOST_TEST(p.place("http://a").multi == a[0].multi);
  // Every time the same: an origin's homes follow from its name.
  transfer_placement q{4, 8};
  BOOST_TEST(q.place("http://a").multi == a[0].multi);
}

BOOST_AUTO_TEST_CASE(as_many_origins_as_handles_each_get_a_handle_of_their_own) {
  // 64 busy origins, 64 handles (16k in flight, bench (g)): by hash alone
  // some would share a home and others have none.
  transfer_placement p{128, 64};
  std::set<size_t> homes;
  for (int i = 1; i <= 64; ++i) {
    auto origin = "http://127.0.0." + std::to_string(i) + ":8080";
    for (int k = 0; k < 100; ++k)
      homes.insert(p.place(origin).multi);
  }
  BOOST_TEST(homes.size() == 64u);
  for (size_t m = 0; m < p.multis(); ++m) {
    BOOST_TEST(p.homed(m) == 1u);
    BOOST_TEST(p.running(m) == 100u);
  }
  // One more origin shares the least busy of them.
  auto extra = p.place("http://127.0.0.65:8080");
  BOOST_TEST(p.homed(extra.multi) == 2u);
}

BOOST_AUTO_TEST_CASE(many_origins_spread_over_the_handles) {
  transfer_placement p{16, 8};
  for (int i = 0; i < 400; ++i)
    p.place("http://host-" + std::to_string(i) + ".example");
  BOOST_TEST(p.multis() == 8u);
  size_t total = 0;
  for (size_t m = 0; m < p.multis(); ++m) {
    BOOST_TEST(p.running(m) > 20u); // 50 each on average
    BOOST_TEST(p.running(m) < 80u);
    total += p.running(m);
  }
  BOOST_TEST(total == 400u);
}

BOOST_AUTO_TEST_CASE(one_busy_origin_uses_every_handle_once_before_any_twice) {
  transfer_placement p{4, 5}; // 8 per home
  for (int i = 0; i < 40; ++i)
    p.place("http://busy");
  for (size_t m = 0; m < p.multis(); ++m)
    BOOST_TEST(p.running(m) == 8u);
  p.place("http://busy"); // past every home: the least busy one
  size_t total = 0;
  for (size_t m = 0; m < p.multis(); ++m)
    total += p.running(m);
  BOOST_TEST(total == 41u);
}

BOOST_AUTO_TEST_CASE(idle_origins_past_the_bound_are_forgotten_the_longest_idle_first) {
  // Subscribers come and go over a daemon's life: the table of origins
  // must not grow with every host ever seen.
  transfer_placement p{4, 8, 3};
  auto url = [](int i) { return "http://host-" + std::to_string(i) + ".example"; };
  auto remembered = [&] {
    std::vector<int> out;
    for (int i = 0; i < 6; ++i)
      if (p.remembers(url(i)))
        out.push_back(i);
    return out;
  };
  std::vector<transfer_placement::spot> spots;
  for (int i = 0; i < 6; ++i)
    spots.push_back(p.place(url(i)));
  auto second = p.place(url(0)); // origin 0 runs two
  BOOST_TEST(p.origins() == 6u);
  // Idle one after another: past 3 idle, the longest idle go; the running
  // origin stays, however long it has run.
  for (int i = 1; i < 6; ++i)
    p.release(spots[static_cast<size_t>(i)]);
  BOOST_TEST(remembered() == (std::vector<int>{0, 3, 4, 5}));
  size_t homed = 0;
  for (size_t m = 0; m < p.multis(); ++m)
    homed += p.homed(m);
  BOOST_TEST(homed == 4u); // a forgotten origin is no handle's any more
  // Remembered, an idle origin runs on its home again, and leaves the idle
  // ones: 4 is now the longest idle.
  auto again = p.place(url(3));
  BOOST_TEST(again.multi == spots[3].multi);
  p.release(spots[0]);
  p.release(second); // idle: 4, 5, 0
  BOOST_TEST(remembered() == (std::vector<int>{0, 3, 4, 5}));
  p.release(again); // idle: 4, 5, 0, 3
  BOOST_TEST(remembered() == (std::vector<int>{0, 3, 5}));
  for (size_t m = 0; m < p.multis(); ++m)
    BOOST_TEST(p.running(m) == 0u);
  // A forgotten origin that comes back is placed like a new one.
  auto back = p.place(url(1));
  BOOST_TEST(back.home == 0u);
  BOOST_TEST(p.running(back.multi) == 1u);
  BOOST_TEST(remembered() == (std::vector<int>{0, 1, 3, 5}));
}

BOOST_AUTO_TEST_SUITE_END()

// Every file of the process in use: the transfer ends as "no socket", the
// attempt policy's cue that the endpoint is not to blame.
BOOST_AUTO_TEST_CASE(no_free_file_ends_a_transfer_as_no_socket) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{loopback_allowed()};
  rlimit before{};
  BOOST_REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
  rlimit low = before;
  low.rlim_cur = 4096; // lowering is always allowed; filling stays quick
  BOOST_REQUIRE(low.rlim_cur <= before.rlim_cur);
  BOOST_REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<int> fillers;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
    fillers.push_back(fd);
  auto open_errno = errno;
  auto result = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  for (int fd : fillers)
    ::close(fd);
  BOOST_REQUIRE(setrlimit(RLIMIT_NOFILE, &before) == 0);
  BOOST_TEST(open_errno == EMFILE);
  BOOST_TEST_INFO("error " << result.error);
  BOOST_TEST(result.status == 0);
  BOOST_TEST(result.no_socket);
  BOOST_TEST(contains(result.error, "Too many open files"));
  BOOST_TEST(!result.address_refused);
  BOOST_TEST(log.connections() == 0u);
  // With files free again the same engine delivers.
  BOOST_TEST(round_trip(engine, make_request(url_for(receiver.port()), done), done).status == 200);
}

BOOST_AUTO_TEST_SUITE(ssrf_guard)

BOOST_AUTO_TEST_CASE(loopback_is_refused_without_allow_private_networks) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{http_engine_options{}}; // allow_private_networks = false
  for (const auto& url :
       {url_for(receiver.port()), "http://localhost:" + std::to_string(receiver.port()) + "/hooks",
        "http://[::1]:" + std::to_string(receiver.port()) + "/hooks",
        "http://127.1.2.3:" + std::to_string(receiver.port()) + "/hooks"}) {
    auto result = round_trip(engine, make_request(url, done), done);
    BOOST_TEST_INFO("url " << url << " error " << result.error);
    BOOST_TEST(result.status == 0);
    BOOST_TEST(!result.timed_out);
    BOOST_TEST(contains(result.error, "allow_private_networks"));
    BOOST_TEST(result.address_refused); // the attempt policy dead-letters it at once
  }
  // The guard acts before connecting: the receiver never saw a request.
  BOOST_TEST(log.all().empty());
  BOOST_TEST(log.connections() == 0u);
}

BOOST_AUTO_TEST_CASE(same_target_works_when_allowed) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{loopback_allowed()};
  auto result = round_trip(engine, make_request(url_for(receiver.port()), done), done);
  BOOST_TEST(result.status == 200);
}

BOOST_AUTO_TEST_CASE(address_table) {
  struct row {
    const char* address;
    bool restricted;
  };
  const row rows[] = {
    {"127.0.0.1", true},
    {"127.255.255.254", true},
    {"10.1.2.3", true},
    {"172.16.0.1", true},
    {"172.31.255.255", true},
    {"172.15.255.255", false},
    {"172.32.0.1", false},
    {"192.168.1.1", true},
    {"192.169.0.1", false},
    {"169.254.169.254", true},
    {"100.64.0.1", true},
    {"100.127.255.255", true},
    {"100.128.0.1", false},
    {"224.0.0.1", true},
    {"239.255.255.250", true},
    {"0.0.0.0", true},
    {"255.255.255.255", true},
    {"8.8.8.8", false},
    {"1.1.1.1", false},
    {"93.184.216.34", false},
    {"::1", true},
    {"::", true},
    {"fe80::1", true},
    {"fc00::1", true},
    {"fd12:3456::1", true},
    {"ff02::1", true},
    {"::ffff:127.0.0.1", true},
    {"::ffff:10.0.0.1", true},
    {"::ffff:169.254.169.254", true},
    {"::ffff:8.8.8.8", false},
    {"2001:4860::8888", false},
    {"2606:4700::1111", false},
    // IPv4 carried inside IPv6: NAT64 and 6to4.
    {"64:ff9b::7f00:1", true},
    {"64:ff9b::a00:1", true},
    {"64:ff9b::808:808", false},
    {"2002:7f00:1::1", true},
    {"2002:c0a8:101::1", true},
    {"2002:808:808::1", false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_INFO("address " << r.address);
    BOOST_TEST(restricted(r.address) == r.restricted);
  }
}

BOOST_AUTO_TEST_CASE(null_and_unknown_families_are_refused) {
  BOOST_TEST(is_restricted_address(nullptr));
  sockaddr_un unix_addr{};
  unix_addr.sun_family = AF_UNIX;
  BOOST_TEST(is_restricted_address(reinterpret_cast<const sockaddr*>(&unix_addr)));
}

BOOST_AUTO_TEST_CASE(addresses_print_for_messages) {
  auto v4 = address_of("127.0.0.1");
  BOOST_TEST(address_to_string(reinterpret_cast<const sockaddr*>(&v4)) == "127.0.0.1");
  auto v6 = address_of("fe80::1");
  BOOST_TEST(address_to_string(reinterpret_cast<const sockaddr*>(&v6)) == "fe80::1");
  BOOST_TEST(address_to_string(nullptr) == "?");
}

BOOST_AUTO_TEST_SUITE_END()
