#define BOOST_TEST_MODULE http_engine
#include <boost/test/unit_test.hpp>

#include "http/address_policy.hpp"
#include "http/http_engine.hpp"
#include "receiver/http_receiver.hpp"
#include "delivery/backoff.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
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
  auto b = round_trip(engine,
                      make_request(url_for(second.port(), "/b"), done, "{\"b\":1}",
                                   {{"webhook-id", "evt_b"}}, 3000),
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
  auto result =
    round_trip(engine, make_request(url_for(receiver.port()), done, "{}", {}, 200), done);
  auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(result.timed_out);
  BOOST_TEST(result.status == 0);
  BOOST_TEST(!result.error.empty());
  BOOST_TEST((elapsed >= 150ms)); // a lower bound: no machine is too slow for it
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
      engine, make_request(url_for(receiver.port()), done, "{\"n\":" + std::to_string(i) + "}"),
      done);
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
  http_engine engine{loopback_allowed(3)}; // spread over three threads
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
  // Every thread took a share: each has connections of its own.
  BOOST_TEST(log.connections() >= 3u);
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

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ssrf_guard)

BOOST_AUTO_TEST_CASE(loopback_is_refused_without_allow_private_networks) {
  request_log log;
  http_receiver receiver{answering(log)};
  completions done;
  http_engine engine{http_engine_options{}}; // allow_private_networks = false
  for (const auto& url : {url_for(receiver.port()),
                          "http://localhost:" + std::to_string(receiver.port()) + "/hooks",
                          "http://[::1]:" + std::to_string(receiver.port()) + "/hooks",
                          "http://127.1.2.3:" + std::to_string(receiver.port()) + "/hooks"}) {
    auto result = round_trip(engine, make_request(url, done), done);
    BOOST_TEST_INFO("url " << url << " error " << result.error);
    BOOST_TEST(result.status == 0);
    BOOST_TEST(!result.timed_out);
    BOOST_TEST(contains(result.error, "allow_private_networks"));
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
    {"127.0.0.1", true},        {"127.255.255.254", true}, {"10.1.2.3", true},
    {"172.16.0.1", true},       {"172.31.255.255", true},  {"172.15.255.255", false},
    {"172.32.0.1", false},      {"192.168.1.1", true},     {"192.169.0.1", false},
    {"169.254.169.254", true},  {"100.64.0.1", true},      {"100.127.255.255", true},
    {"100.128.0.1", false},     {"224.0.0.1", true},       {"239.255.255.250", true},
    {"0.0.0.0", true},          {"255.255.255.255", true}, {"8.8.8.8", false},
    {"1.1.1.1", false},         {"93.184.216.34", false},
    {"::1", true},              {"::", true},              {"fe80::1", true},
    {"fc00::1", true},          {"fd12:3456::1", true},    {"ff02::1", true},
    {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true}, {"::ffff:169.254.169.254", true},
    {"::ffff:8.8.8.8", false},  {"2001:4860::8888", false}, {"2606:4700::1111", false},
    // IPv4 carried inside IPv6: NAT64 and 6to4.
    {"64:ff9b::7f00:1", true},  {"64:ff9b::a00:1", true},  {"64:ff9b::808:808", false},
    {"2002:7f00:1::1", true},   {"2002:c0a8:101::1", true}, {"2002:808:808::1", false},
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
