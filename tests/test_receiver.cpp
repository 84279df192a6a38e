#define BOOST_TEST_MODULE receiver
#include <boost/test/unit_test.hpp>

#include "receiver/http_receiver.hpp"

#include <curl/curl.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using volley::http_receiver;
using volley::received_request;
using volley::receiver_reply;

namespace {

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~curl_global() { curl_global_cleanup(); }
};
BOOST_TEST_GLOBAL_FIXTURE(curl_global);

// Remembers every request the receiver saw and lets a test wait for them.
class request_log {
public:
  void add(const received_request& request) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(request);
    }
    changed_.notify_all();
  }

  bool wait_for_count(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
  }

  std::vector<received_request> all() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<received_request> requests_;
};

// A handler that logs the request and answers with `reply`.
volley::receiver_handler answering(request_log& log, receiver_reply reply = {}) {
  return [&log, reply](const received_request& request) {
    log.add(request);
    return reply;
  };
}

struct http_result {
  CURLcode code = CURLE_OK;
  long status = 0;
  long new_connections = 0;
  std::string body;
  std::string headers; // the raw response header block(s)
};

size_t append_to_string(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct curl_slist_deleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct curl_easy_deleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using easy_handle = std::unique_ptr<CURL, curl_easy_deleter>;

easy_handle new_easy() {
  easy_handle easy(curl_easy_init());
  if (!easy)
    throw std::runtime_error("curl_easy_init failed");
  return easy;
}

std::string url_for(uint16_t port, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// POSTs `body` (or GETs when it is empty) on `easy`, which keeps its
// connection cache between calls.
http_result perform(CURL* easy, const std::string& url, const std::string& body = {},
                    const std::vector<std::string>& headers = {}, long timeout_ms = 10000) {
  http_result result;
  std::unique_ptr<curl_slist, curl_slist_deleter> list;
  for (const auto& header : headers)
    list.reset(curl_slist_append(list.release(), header.c_str()));
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list.get());
  if (body.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, append_to_string);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &result.headers);
  result.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &result.new_connections);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  return result;
}

http_result perform_once(const std::string& url, const std::string& body = {},
                         const std::vector<std::string>& headers = {}, long timeout_ms = 10000) {
  auto easy = new_easy();
  return perform(easy.get(), url, body, headers, timeout_ms);
}

} // namespace

BOOST_AUTO_TEST_CASE(delivers_method_target_headers_and_body_to_the_handler) {
  request_log log;
  receiver_reply reply;
  reply.body = "thanks";
  http_receiver receiver(answering(log, reply));
  BOOST_TEST(receiver.port() != 0);

  const auto result =
    perform_once(url_for(receiver.port(), "/hooks/billing?x=1"), R"({"type":"order.created"})",
                 {"Content-Type: application/json", "Webhook-ID: evt_1", "X-Event-Type: order.created"});
  BOOST_TEST(result.code == CURLE_OK, curl_easy_strerror(result.code));
  BOOST_TEST(result.status == 200);
  BOOST_TEST(result.body == "thanks");

  const auto requests = log.all();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  const auto& request = requests.front();
  BOOST_TEST(request.method == "POST");
  BOOST_TEST(request.target == "/hooks/billing?x=1");
  BOOST_TEST(request.body == R"({"type":"order.created"})");
  BOOST_TEST(request.header("webhook-id") == "evt_1");
  BOOST_TEST(request.header("WEBHOOK-ID") == "evt_1");
  BOOST_TEST(request.header("x-event-type") == "order.created");
  BOOST_TEST(request.header("content-type") == "application/json");
  BOOST_TEST(request.header("x-absent").empty());
  for (const auto& [name, value] : request.headers) {
    for (char c : name)
      BOOST_TEST(!(c >= 'A' && c <= 'Z'), "header name not lowercase: " << name);
  }
}

BOOST_AUTO_TEST_CASE(large_bodies_arrive_whole) {
  request_log log;
  http_receiver receiver(answering(log));
  const std::string body(3 * 1024 * 1024, 'x'); // curl sends Expect: 100-continue
  const auto result = perform_once(url_for(receiver.port()), body);
  BOOST_TEST(result.code == CURLE_OK, curl_easy_strerror(result.code));
  BOOST_TEST(result.status == 200);
  const auto requests = log.all();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests.front().body.size() == body.size());
}

BOOST_AUTO_TEST_CASE(bodies_over_the_limit_get_413) {
  request_log log;
  http_receiver receiver(answering(log));
  const std::string body(17 * 1024 * 1024, 'x');
  const auto result = perform_once(url_for(receiver.port()), body);
  BOOST_TEST(result.code == CURLE_OK, curl_easy_strerror(result.code));
  BOOST_TEST(result.status == 413);
  BOOST_TEST(log.all().empty());
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_many_requests_on_one_connection) {
  request_log log;
  http_receiver receiver(answering(log));
  auto easy = new_easy();
  long connections = 0;
  for (int i = 0; i < 5; ++i) {
    const auto result = perform(easy.get(), url_for(receiver.port()), "body " + std::to_string(i));
    BOOST_TEST_REQUIRE(result.code == CURLE_OK, curl_easy_strerror(result.code));
    BOOST_TEST(result.status == 200);
    BOOST_TEST(result.headers.find("Content-Length") != std::string::npos);
    connections += result.new_connections;
  }
  BOOST_TEST(connections == 1);
  const auto requests = log.all();
  BOOST_TEST_REQUIRE(requests.size() == 5u);
  BOOST_TEST(requests[4].body == "body 4");
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured) {
  request_log log;
  http_receiver receiver(answering(log));
  auto easy = new_easy();
  long connections = 0;
  for (int i = 0; i < 2; ++i) {
    const auto result = perform(easy.get(), url_for(receiver.port()), "x", {"Connection: close"});
    BOOST_TEST_REQUIRE(result.code == CURLE_OK, curl_easy_strerror(result.code));
    connections += result.new_connections;
  }
  BOOST_TEST(connections == 2);
}

BOOST_AUTO_TEST_CASE(custom_status_and_headers_are_sent) {
  request_log log;
  receiver_reply reply;
  reply.status = 503;
  reply.headers = {{"Retry-After", "7"}};
  reply.body = "busy";
  http_receiver receiver(answering(log, reply));
  const auto result = perform_once(url_for(receiver.port()), "x");
  BOOST_TEST(result.code == CURLE_OK, curl_easy_strerror(result.code));
  BOOST_TEST(result.status == 503);
  BOOST_TEST(result.body == "busy");
  BOOST_TEST(result.headers.find("Retry-After: 7\r\n") != std::string::npos, result.headers);
}

BOOST_AUTO_TEST_CASE(concurrent_connections_are_served) {
  request_log log;
  http_receiver receiver(answering(log));
  std::vector<std::thread> clients;
  std::vector<CURLcode> codes(8, CURLE_FAILED_INIT);
  for (size_t i = 0; i < codes.size(); ++i)
    clients.emplace_back([&, i] { codes[i] = perform_once(url_for(receiver.port()), "x").code; });
  for (auto& client : clients)
    client.join();
  for (auto code : codes)
    BOOST_TEST(code == CURLE_OK, curl_easy_strerror(code));
  BOOST_TEST(log.all().size() == codes.size());
}

BOOST_AUTO_TEST_CASE(reset_gives_the_client_an_error) {
  request_log log;
  receiver_reply reply;
  reply.reset = true;
  http_receiver receiver(answering(log, reply));
  const auto result = perform_once(url_for(receiver.port()), "x");
  BOOST_TEST(result.code != CURLE_OK);
  BOOST_TEST(result.code != CURLE_OPERATION_TIMEDOUT);
  BOOST_TEST(log.all().size() == 1u);
}

BOOST_AUTO_TEST_CASE(hang_is_cut_off_by_the_client_timeout) {
  request_log log;
  receiver_reply reply;
  reply.hang = true;
  http_receiver receiver(answering(log, reply));
  const auto result = perform_once(url_for(receiver.port()), "x", {}, 300);
  BOOST_TEST(result.code == CURLE_OPERATION_TIMEDOUT, curl_easy_strerror(result.code));
}

BOOST_AUTO_TEST_CASE(stop_unblocks_a_hanging_connection_promptly) {
  request_log log;
  receiver_reply reply;
  reply.hang = true;
  http_receiver receiver(answering(log, reply));

  http_result result;
  std::thread client([&] { result = perform_once(url_for(receiver.port()), "x", {}, 30000); });
  BOOST_TEST_REQUIRE(log.wait_for_count(1, 10s));

  receiver.stop();
  client.join();
  BOOST_TEST(result.code != CURLE_OK);
  // Cut off by the stop, not by the client's own 30 s timeout.
  BOOST_TEST(result.code != CURLE_OPERATION_TIMEDOUT);
  receiver.stop(); // idempotent
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_keep_alive_connections) {
  request_log log;
  http_receiver receiver(answering(log));
  auto easy = new_easy();
  BOOST_TEST_REQUIRE(perform(easy.get(), url_for(receiver.port()), "x").code == CURLE_OK);
  receiver.stop(); // returns although the connection stays open in curl's cache
  // A stopped receiver refuses new work.
  BOOST_TEST(perform(easy.get(), url_for(receiver.port()), "x", {}, 2000).code != CURLE_OK);
}

BOOST_AUTO_TEST_CASE(restarts_on_the_same_port_right_after_stop) {
  request_log log;
  auto first = std::make_unique<http_receiver>(answering(log));
  const uint16_t port = first->port();
  BOOST_TEST_REQUIRE(perform_once(url_for(port), "one").code == CURLE_OK);
  first->stop(); // the receiver closed first: its side sits in TIME_WAIT
  first.reset();

  http_receiver second(answering(log), port);
  BOOST_TEST(second.port() == port);
  const auto result = perform_once(url_for(port), "two");
  BOOST_TEST(result.code == CURLE_OK, curl_easy_strerror(result.code));
  BOOST_TEST(result.status == 200);
  const auto requests = log.all();
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(requests[1].body == "two");
}

BOOST_AUTO_TEST_CASE(a_busy_port_is_refused_with_an_error) {
  request_log log;
  http_receiver first(answering(log));
  BOOST_CHECK_THROW(http_receiver(answering(log), first.port()), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(handler_exceptions_become_500) {
  http_receiver receiver([](const received_request&) -> receiver_reply { throw std::runtime_error("boom"); });
  const auto result = perform_once(url_for(receiver.port()), "x");
  BOOST_TEST(result.code == CURLE_OK, curl_easy_strerror(result.code));
  BOOST_TEST(result.status == 500);
  BOOST_TEST(result.body.find("boom") != std::string::npos);
}
