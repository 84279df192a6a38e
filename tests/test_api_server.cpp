#define BOOST_TEST_MODULE api_server
#include <boost/test/unit_test.hpp>

// The HTTP API server over real sockets on 127.0.0.1: routing, the bearer
// token, limits, keep-alive order with answers from other threads, and
// hostile clients (slow headers, thousands of idle connections, a huge
// upload) that must not stop others from being served.

#include "api/http_server.hpp"
#include "tests/support/descriptor_limit.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/wait.hpp"

#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace volley;
using test::http_client;
using test::http_reply;
using test::raise_descriptor_limit;
using test::wait_until;

namespace {

// Responders parked by the /v1/held/{n} route, for a test to answer later.
class held_requests {
public:
  void add(const std::string& name, responder answer) {
    std::lock_guard<std::mutex> lock(mutex_);
    held_.emplace(name, std::move(answer));
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_.size();
  }
  responder take(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = held_.find(name);
    if (it == held_.end())
      throw std::runtime_error("no held request " + name);
    responder out = it->second;
    held_.erase(it);
    return out;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, responder> held_;
};

// The routes every test serves.
route_table test_routes(held_requests& held) {
  route_table routes;
  routes.add("GET", "/v1/health", [](const api_request&, responder answer) {
    answer(api_response::json(200, "{\"status\":\"healthy\"}"));
  });
  routes.add("GET", "/metrics", [](const api_request&, responder answer) {
    api_response response;
    response.content_type = "text/plain; version=0.0.4";
    response.body = "volley_up 1\n";
    answer(std::move(response));
  });
  routes.add("POST", "/v1/echo", [](const api_request& request, responder answer) {
    answer(api_response::json(200, request.body));
  });
  // "<name>|<hours>|<q>": what routing and the query decoded.
  routes.add("GET", "/v1/items/{name}", [](const api_request& request, responder answer) {
    answer(api_response::json(200, std::string(request.param("name").value_or("-")) + "|" +
                                     std::string(request.query_value("hours").value_or("-")) + "|" +
                                     std::string(request.query_value("q").value_or("-"))));
  });
  routes.add("GET", "/v1/held/{n}", [&held](const api_request& request, responder answer) {
    held.add(std::string(*request.param("n")), std::move(answer));
  });
  routes.add("GET", "/v1/drop", [](const api_request&, responder) {});
  // Open: served without the token, as the dashboard's files are.
  routes.add(
    "GET", "/page", [](const api_request&, responder answer) { answer(api_response::json(200, "{}")); },
    route_access::open);
  routes.add("GET", "/v1/throw",
             [](const api_request&, responder) { throw std::runtime_error("handler exploded"); });
  return routes;
}

http_server_options options_on_free_port() {
  http_server_options options;
  options.port = 0;
  return options;
}

struct server_fixture {
  held_requests held;
  std::unique_ptr<http_server> server;

  explicit server_fixture(http_server_options options = options_on_free_port()) {
    server = std::make_unique<http_server>(std::move(options), test_routes(held));
  }
  uint16_t port() const { return server->port(); }
};

bool closes_with(http_client& client, int status) {
  auto reply = client.read_reply();
  return reply && reply->status == status && client.wait_closed();
}

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

} // namespace

BOOST_AUTO_TEST_CASE(routes_answer_200_404_and_405_on_one_connection) {
  server_fixture f;
  http_client client(f.port());

  auto ok = client.get("/v1/health");
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.body == "{\"status\":\"healthy\"}");
  BOOST_TEST(ok.header("content-type") == "application/json");

  auto missing = client.get("/x");
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(missing.body == "{\"error\":\"no such endpoint: GET /x\"}");
  BOOST_TEST(missing.header("content-type") == "application/json");

  auto wrong = client.del("/v1/health");
  BOOST_TEST(wrong.status == 405);
  BOOST_TEST(wrong.header("allow") == "GET");
  BOOST_TEST(wrong.body.find("{\"error\":\"method DELETE not allowed on /v1/health") == 0u);

  // Parameters and query values arrive decoded; the connection is reused.
  auto item = client.get("/v1/items/a%2Fb?hours=2&q=x%20y+z");
  BOOST_TEST(item.status == 200);
  BOOST_TEST(item.body == "a/b|2|x y z");
  auto bad = client.get("/v1/items/a?hours=%zz");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(bad.body.find("percent-encoding") != std::string::npos);
  BOOST_TEST(client.get("/v1/health").status == 200);
  BOOST_TEST(f.server->stats().connections_accepted == 1u);

  // A refused request with a body: its body is not read, the connection ends.
  http_client putter(f.port());
  auto put = putter.put("/v1/items/x", "{}");
  BOOST_TEST(put.status == 405);
  BOOST_TEST(put.header("allow") == "GET");
  BOOST_TEST(put.header("connection") == "close");
  BOOST_TEST(putter.wait_closed());
}

BOOST_AUTO_TEST_CASE(a_token_is_needed_everywhere_when_configured) {
  auto options = options_on_free_port();
  options.token = "s3cret-t0ken";
  server_fixture f(options);
  http_client client(f.port());

  for (const std::string target : {"/v1/health", "/metrics", "/nowhere"}) {
    auto none = client.get(target);
    BOOST_TEST(none.status == 401, target);
    BOOST_TEST(none.header("www-authenticate").find("Bearer") == 0u, target);
    BOOST_TEST(none.header("content-type") == "application/json");
    BOOST_TEST(none.body.find("{\"error\":\"authentication required") == 0u);

    auto wrong = client.get(target, {{"Authorization", "Bearer s3cret-t0ke"}});
    BOOST_TEST(wrong.status == 401, target);
    BOOST_TEST(wrong.header("www-authenticate").find("Bearer") == 0u, target);
    BOOST_TEST(client.get(target, {{"Authorization", "Basic s3cret-t0ken"}}).status == 401);
  }
  auto health = client.get("/v1/health", {{"Authorization", "Bearer s3cret-t0ken"}});
  BOOST_TEST(health.status == 200);
  auto metrics = client.get("/metrics", {{"Authorization", "Bearer s3cret-t0ken"}});
  BOOST_TEST(metrics.status == 200);
  BOOST_TEST(metrics.body == "volley_up 1\n");
  BOOST_TEST(metrics.header("content-type") == "text/plain; version=0.0.4");

  // Without the token a body is not read: the answer ends the connection.
  http_client poster(f.port());
  poster.send_raw(test::http_request_text("POST", "/v1/echo", std::string(100, 'x')));
  auto refused = poster.read_reply();
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->status == 401);
  BOOST_TEST(refused->header("www-authenticate").find("Bearer") == 0u);
  BOOST_TEST(poster.wait_closed());
}

BOOST_AUTO_TEST_CASE(an_open_route_is_served_without_the_token_and_nothing_else_is) {
  auto options = options_on_free_port();
  options.token = "s3cret-t0ken";
  server_fixture f(options);
  http_client client(f.port());

  BOOST_TEST(client.get("/page").status == 200);
  BOOST_TEST(client.get("/page", {{"Authorization", "Bearer wrong"}}).status == 200);
  BOOST_TEST(client.get("/page?x=1").status == 200);
  // Another method on it, a path below it, or a path that does not parse:
  // 401 as before, so an unauthenticated client learns nothing more.
  http_client poster(f.port()); // a refused body ends its connection
  BOOST_TEST(poster.request("POST", "/page", "{}").status == 401);
  BOOST_TEST(client.get("/page/more").status == 401);
  BOOST_TEST(client.get("/v1/health").status == 401);
  BOOST_TEST(client.get("/%zz").status == 401);
  BOOST_TEST(client.get("/%zz", {{"Authorization", "Bearer s3cret-t0ken"}}).status == 400);
}

BOOST_AUTO_TEST_CASE(an_announced_oversize_body_gets_413_before_it_is_sent) {
  auto options = options_on_free_port();
  options.max_body_bytes = 1024;
  server_fixture f(options);

  http_client at_limit(f.port());
  BOOST_TEST(at_limit.post("/v1/echo", std::string(1024, 'a')).body == std::string(1024, 'a'));

  // Only the header goes out: the answer cannot wait for the body.
  http_client client(f.port());
  client.send_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n");
  auto reply = client.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 413);
  BOOST_TEST(reply->header("content-type") == "application/json");
  BOOST_TEST(reply->header("connection") == "close");
  BOOST_TEST(reply->body.find("api.max_body_bytes") != std::string::npos);
  BOOST_TEST(client.wait_closed());
}

BOOST_AUTO_TEST_CASE(a_chunked_body_over_the_limit_gets_413) {
  auto options = options_on_free_port();
  options.max_body_bytes = 1024;
  server_fixture f(options);

  const std::string chunk = "200\r\n" + std::string(512, 'c') + "\r\n";
  http_client small(f.port());
  small.send_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
                 "0\r\n\r\n");
  auto echoed = small.read_reply();
  BOOST_REQUIRE(echoed);
  BOOST_TEST(echoed->status == 200);
  BOOST_TEST(echoed->body == std::string(1024, 'c'));

  http_client big(f.port());
  big.send_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
               chunk);
  BOOST_TEST(closes_with(big, 413));
}

BOOST_AUTO_TEST_CASE(garbage_gets_400_and_the_connection_ends) {
  server_fixture f;
  const std::vector<std::string> garbage = {
    "GARBAGE\r\n\r\n",
    "GET /v1/health HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    "GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", // a TLS hello
    "GET /v1/health HTTP/1.1\r\nBad Header\r\n\r\n",
    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    // Lengths a proxy in front might read otherwise (request smuggling).
    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    "0\r\n\r\n",
    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
  };
  for (const auto& bytes : garbage) {
    http_client client(f.port());
    client.send_raw(bytes);
    auto reply = client.read_reply();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->status == 400);
    BOOST_TEST(reply->header("content-type") == "application/json");
    BOOST_TEST(reply->body.find("{\"error\":\"malformed HTTP request") == 0u);
    BOOST_TEST(client.wait_closed());
  }
  // The server is none the worse for it.
  BOOST_TEST(http_client(f.port()).get("/v1/health").status == 200);
}

BOOST_AUTO_TEST_CASE(an_oversize_header_gets_431) {
  auto options = options_on_free_port();
  options.max_header_bytes = 1024;
  server_fixture f(options);
  http_client client(f.port());
  client.send_raw("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n");
  BOOST_TEST(closes_with(client, 431));
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order_whatever_order_handlers_answer) {
  auto options = options_on_free_port();
  options.threads = 2;
  server_fixture f(options);
  http_client client(f.port());
  client.send_raw(test::http_request_text("GET", "/v1/held/1") +
                  test::http_request_text("GET", "/v1/held/2") +
                  test::http_request_text("GET", "/v1/held/3"));
  BOOST_REQUIRE(wait_until([&] { return f.held.size() == 3; }));

  // The last first, each from a thread of its own; one by one, so the order
  // the server sees is certain.
  for (const std::string n : {"3", "2", "1"}) {
    std::thread answering([&f, n] { f.held.take(n)(api_response::json(200, n)); });
    answering.join();
  }
  for (const std::string n : {"1", "2", "3"}) {
    auto reply = client.read_reply();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->body == n);
  }
  BOOST_TEST(client.get("/v1/health").status == 200); // still the same connection
  BOOST_TEST(f.server->stats().connections_accepted == 1u);
}

BOOST_AUTO_TEST_CASE(reading_pauses_past_max_pipelined_and_resumes) {
  auto options = options_on_free_port();
  options.max_pipelined = 2;
  server_fixture f(options);
  http_client client(f.port());
  std::string burst;
  for (int i = 0; i < 20; ++i)
    burst += test::http_request_text("GET", "/v1/items/" + std::to_string(i));
  client.send_raw(burst);
  for (int i = 0; i < 20; ++i) {
    auto reply = client.read_reply();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->body == std::to_string(i) + "|-|-");
  }
}

BOOST_AUTO_TEST_CASE(a_dropped_or_throwing_handler_answers_500_and_the_connection_lives_on) {
  server_fixture f;
  http_client client(f.port());
  auto dropped = client.get("/v1/drop");
  BOOST_TEST(dropped.status == 500);
  BOOST_TEST(dropped.header("content-type") == "application/json");
  BOOST_TEST(dropped.body.find("{\"error\":\"internal error") == 0u);
  auto thrown = client.get("/v1/throw");
  BOOST_TEST(thrown.status == 500);
  BOOST_TEST(thrown.body.find("handler exploded") != std::string::npos);
  BOOST_TEST(client.get("/v1/health").status == 200);
}

BOOST_AUTO_TEST_CASE(a_late_answer_from_another_thread_arrives) {
  server_fixture f;
  http_client client(f.port());
  client.send_raw(test::http_request_text("GET", "/v1/held/late"));
  BOOST_REQUIRE(wait_until([&] { return f.held.size() == 1; }));
  std::thread([&f] {
    api_response response = api_response::json(201, "{\"late\":true}");
    response.headers.emplace_back("Location", "/v1/items/late");
    f.held.take("late")(std::move(response));
  }).join();
  auto reply = client.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 201);
  BOOST_TEST(reply->header("location") == "/v1/items/late");
}

BOOST_AUTO_TEST_CASE(late_answers_reach_connections_that_read_no_more) {
  auto options = options_on_free_port();
  options.max_pipelined = 1;
  server_fixture f(options);

  // The last request of its connection: nothing is read after it.
  http_client closing(f.port());
  closing.send_raw(test::http_request_text("GET", "/v1/held/last", {}, {{"Connection", "close"}}));
  // A full pipeline: reading pauses until the first is answered.
  http_client paused(f.port());
  paused.send_raw(test::http_request_text("GET", "/v1/held/p1") +
                  test::http_request_text("GET", "/v1/held/p2"));
  BOOST_REQUIRE(wait_until([&] { return f.held.size() == 2; }));

  std::thread([&f] {
    f.held.take("last")(api_response::json(200, "last"));
    f.held.take("p1")(api_response::json(200, "p1"));
  }).join();
  auto last = closing.read_reply();
  BOOST_REQUIRE(last);
  BOOST_TEST(last->body == "last");
  BOOST_TEST(last->header("connection") == "close");
  BOOST_TEST(closing.wait_closed());

  auto first = paused.read_reply();
  BOOST_REQUIRE(first);
  BOOST_TEST(first->body == "p1");
  BOOST_REQUIRE(wait_until([&] { return f.held.size() == 1; })); // p2 was read once p1 went out
  std::thread([&f] { f.held.take("p2")(api_response::json(200, "p2")); }).join();
  auto second = paused.read_reply();
  BOOST_REQUIRE(second);
  BOOST_TEST(second->body == "p2");
}

BOOST_AUTO_TEST_CASE(connection_close_and_http_1_0_are_honoured) {
  server_fixture f;
  http_client closing(f.port());
  closing.send_raw(test::http_request_text("GET", "/v1/health", {}, {{"Connection", "close"}}));
  auto reply = closing.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 200);
  BOOST_TEST(reply->header("connection") == "close");
  BOOST_TEST(closing.wait_closed());

  http_client old(f.port());
  old.send_raw("GET /v1/health HTTP/1.0\r\n\r\n");
  BOOST_TEST(closes_with(old, 200));
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered_before_the_body) {
  server_fixture f;
  http_client client(f.port());
  client.send_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n");
  auto interim = client.read_reply(30s, true);
  BOOST_REQUIRE(interim);
  BOOST_TEST(interim->status == 100);
  client.send_raw("hello");
  auto reply = client.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 200);
  BOOST_TEST(reply->body == "hello");
}

BOOST_AUTO_TEST_CASE(a_slow_header_gets_408_while_others_are_served) {
  auto options = options_on_free_port();
  options.header_timeout_ms = 300;
  server_fixture f(options);

  http_client slow(f.port());
  slow.send_raw("GET /v1/health HTTP/1.1\r\nHost: x\r\n"); // and never the blank line
  http_client silent(f.port());                            // sends nothing at all

  http_client other(f.port());
  BOOST_TEST(other.get("/v1/health").status == 200);

  auto reply = slow.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 408);
  BOOST_TEST(reply->body.find("api.header_timeout_ms") != std::string::npos);
  BOOST_TEST(slow.wait_closed());

  // A connection that never began a request is closed without a word.
  BOOST_TEST(!silent.read_reply());
  BOOST_TEST(silent.wait_closed(0ms));
  BOOST_TEST(other.get("/v1/health").status == 200);
}

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed) {
  auto options = options_on_free_port();
  options.idle_timeout_ms = 200;
  server_fixture f(options);
  http_client client(f.port());
  BOOST_TEST(client.get("/v1/health").status == 200);
  BOOST_TEST(client.wait_closed());
  BOOST_TEST(wait_until([&] { return f.server->stats().connections_open == 0; }));
}

BOOST_AUTO_TEST_CASE(over_max_connections_a_client_gets_503_until_a_slot_frees) {
  auto options = options_on_free_port();
  options.max_connections = 2;
  server_fixture f(options);
  auto first = std::make_unique<http_client>(f.port());
  http_client second(f.port());
  BOOST_REQUIRE(wait_until([&] { return f.server->stats().connections_open == 2; }));

  http_client third(f.port());
  auto refused = third.read_reply();
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->status == 503);
  BOOST_TEST(refused->header("content-type") == "application/json");
  BOOST_TEST(refused->body.find("api.max_connections") != std::string::npos);
  BOOST_TEST(third.wait_closed());
  BOOST_TEST(f.server->stats().connections_refused == 1u);

  first.reset();
  BOOST_REQUIRE(wait_until([&] { return f.server->stats().connections_open == 1; }));
  BOOST_TEST(http_client(f.port()).get("/v1/health").status == 200);
  BOOST_TEST(second.get("/v1/health").status == 200);
}

BOOST_AUTO_TEST_CASE(two_thousand_idle_connections_do_not_stop_another_client) {
  constexpr size_t idle = 2000;
  raise_descriptor_limit(2 * idle + 256); // both ends live in this process
  auto options = options_on_free_port();
  options.header_timeout_ms = 600'000;
  options.idle_timeout_ms = 600'000;
  server_fixture f(options);
  BOOST_TEST(http_client(f.port()).get("/v1/health").status == 200); // warm up
  BOOST_REQUIRE(wait_until([&] { return f.server->stats().connections_open == 0; }));

  const long before = resident_bytes();
  std::vector<std::unique_ptr<http_client>> clients;
  for (size_t i = 0; i < idle; ++i) {
    clients.push_back(std::make_unique<http_client>(f.port()));
    if (i % 2 == 0) // half after one request (keep-alive), half never started
      BOOST_REQUIRE(clients.back()->get("/v1/health").status == 200);
  }
  BOOST_REQUIRE(wait_until([&] { return f.server->stats().connections_open == idle; }));
  const long after = resident_bytes();
  BOOST_TEST_MESSAGE("resident memory per idle connection, server and client side together: "
                     << (after - before) / static_cast<long>(idle) << " bytes");

  http_client other(f.port());
  BOOST_TEST(other.get("/v1/health").status == 200);
  BOOST_TEST(other.post("/v1/echo", "{\"x\":1}").body == "{\"x\":1}");
  BOOST_TEST(f.server->stats().connections_open == idle + 1); // nobody was dropped to make room
}

BOOST_AUTO_TEST_CASE(a_100_mb_upload_is_refused_and_the_server_keeps_serving) {
  server_fixture f; // max_body_bytes: the default 10 MiB
  constexpr uint64_t body = 100ull * 1024 * 1024;
  http_client uploader(f.port());
  auto result = uploader.upload("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/x-ndjson\r\nContent-Length: " +
                                  std::to_string(body) + "\r\n\r\n",
                                body);
  BOOST_REQUIRE(result.reply);
  BOOST_TEST(result.reply->status == 413);
  BOOST_TEST(result.reply->body.find("api.max_body_bytes") != std::string::npos);
  // Refused from the header: the body was never read, so the upload
  // stalled on flow control long before its end.
  BOOST_TEST_MESSAGE("body bytes sent before the answer: " << result.body_bytes_sent);
  BOOST_TEST(result.body_bytes_sent < body);
  BOOST_TEST(uploader.wait_closed());

  http_client other(f.port());
  BOOST_TEST(other.get("/v1/health").status == 200);
  BOOST_TEST(f.server->stats().requests >= 1u);
}

BOOST_AUTO_TEST_CASE(stop_with_grace_lets_an_owed_answer_out) {
  server_fixture f;
  http_client client(f.port());
  client.send_raw(test::http_request_text("GET", "/v1/held/owed"));
  BOOST_REQUIRE(wait_until([&] { return f.held.size() == 1; }));

  std::thread stopping([&f] { f.server->stop(30s); });
  // Stopping has begun once the listener is closed.
  BOOST_REQUIRE(wait_until([&] {
    try {
      http_client probe(f.port());
      probe.send_raw(test::http_request_text("GET", "/v1/health"));
      return !probe.read_reply();
    } catch (const std::runtime_error&) {
      return true; // refused, or reset while sending
    }
  }));
  f.held.take("owed")(api_response::json(200, "{\"owed\":true}"));
  auto reply = client.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 200);
  BOOST_TEST(reply->header("connection") == "close");
  client.close();
  stopping.join();
  BOOST_TEST(f.server->stats().connections_open == 0u);
}

BOOST_AUTO_TEST_CASE(an_answer_after_stop_goes_nowhere_safely) {
  held_requests held;
  auto options = options_on_free_port();
  auto server = std::make_unique<http_server>(options, test_routes(held));
  http_client client(server->port());
  client.send_raw(test::http_request_text("GET", "/v1/held/answered") +
                  test::http_request_text("GET", "/v1/held/dropped"));
  BOOST_REQUIRE(wait_until([&] { return held.size() == 2; }));
  server.reset(); // stop(): nothing owed is written any more
  BOOST_TEST(client.wait_closed());
  // Neither reaches a connection or io_context that is gone (ASan builds
  // would catch it); the answer still counts as given.
  BOOST_TEST(held.take("answered")(api_response::json(200, "{}")));
  held.take("dropped");
}
