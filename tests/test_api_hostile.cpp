// Hostile HTTP against a real volleyd: slow headers, a 100 MB body, ten
// thousand idle connections and garbage request lines each leave the node
// serving other clients, over HTTP and over the TCP ingress alike.

#define BOOST_TEST_MODULE api_hostile
#include <boost/test/unit_test.hpp>

#include "tests/support/descriptor_limit.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/wait.hpp"

#include <memory>
#include <vector>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

const http_headers json_type{{"Content-Type", "application/json"}};

void start(running_node& n, const recording_receiver& receiver, const std::string& api_extra = "") {
  n.spec.api = true;
  n.spec.api_extra = api_extra;
  n.spec.subscribers = {{"s", receiver.url(), {}, "", ""}};
  n.start();
  BOOST_REQUIRE_MESSAGE(n.api_port() != 0, n.log());
}

// Another client is served, over HTTP and over the TCP ingress, and its
// events arrive.
void others_are_served(running_node& n, const recording_receiver& receiver, const std::string& id) {
  http_client other{n.api_port()};
  BOOST_TEST(other.get("/v1/health").status == 200);
  BOOST_TEST(other.post("/v1/events", "{\"type\":\"h\",\"id\":\"" + id + "-http\"}", json_type).status ==
             200);
  line_client tcp{n.port()};
  tcp.send_line("{\"type\":\"h\",\"id\":\"" + id + "-tcp\"}");
  auto answer = tcp.read_line();
  BOOST_TEST((answer && answer->rfind("{\"ok\":true", 0) == 0));
  BOOST_TEST(wait_until([&] {
    auto seen = receiver.per_event();
    return seen.count(id + "-http") && seen.count(id + "-tcp");
  }));
}

} // namespace

BOOST_AUTO_TEST_CASE(slow_headers_get_408_while_others_are_served) {
  recording_receiver receiver;
  running_node n;
  start(n, receiver, "\"header_timeout_ms\": 300");
  http_client slow{n.api_port()};
  slow.send_raw("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // never the blank line
  others_are_served(n, receiver, "slow");
  auto reply = slow.read_reply();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->status == 408);
  BOOST_TEST(reply->body.find("api.header_timeout_ms") != std::string::npos);
  BOOST_TEST(slow.wait_closed());
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_100_mb_body_is_refused_before_it_is_read) {
  recording_receiver receiver;
  running_node n;
  start(n, receiver); // api.max_body_bytes: the default 10 MiB
  constexpr uint64_t body = 100ull * 1024 * 1024;
  http_client uploader{n.api_port()};
  auto result = uploader.upload("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                "application/x-ndjson\r\nContent-Length: " +
                                  std::to_string(body) + "\r\n\r\n",
                                body);
  BOOST_REQUIRE(result.reply);
  BOOST_TEST(result.reply->status == 413);
  BOOST_TEST(result.reply->body.find("api.max_body_bytes") != std::string::npos);
  BOOST_TEST(result.body_bytes_sent < body);
  BOOST_TEST(uploader.wait_closed());
  // Chunked, so the size shows only as it arrives: refused all the same.
  http_client chunked{n.api_port()};
  auto streamed = chunked.upload("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                 "application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "6400000\r\n",
                                 body);
  BOOST_REQUIRE(streamed.reply);
  BOOST_TEST(streamed.reply->status == 413);
  others_are_served(n, receiver, "big");
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(ten_thousand_idle_connections_do_not_stop_another_client) {
  constexpr size_t idle = 10000;
  raise_descriptor_limit(idle + 512); // volleyd raises its own limit at start
  recording_receiver receiver;
  running_node n;
  start(n, receiver,
        "\"max_connections\": 10100, \"header_timeout_ms\": 600000, "
        "\"idle_timeout_ms\": 600000");
  std::vector<std::unique_ptr<http_client>> clients;
  clients.reserve(idle);
  for (size_t i = 0; i < idle; ++i) {
    clients.push_back(std::make_unique<http_client>(n.api_port()));
    if (i % 2 == 0) // half idle after one request (keep-alive), half never started
      BOOST_REQUIRE(clients.back()->get("/v1/health").status == 200);
  }
  others_are_served(n, receiver, "idle");
  // Nobody was dropped to make room.
  BOOST_TEST(clients.front()->get("/v1/queue").status == 200);
  BOOST_TEST(clients.back()->get("/v1/queue").status == 200);
  clients.clear();
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(garbage_request_lines_get_400_and_end_only_their_connection) {
  recording_receiver receiver;
  running_node n;
  start(n, receiver);
  http_client keeper{n.api_port()};
  BOOST_TEST(keeper.get("/v1/health").status == 200);
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /v1/health HTTP/9.9\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n", // a TLS hello
        std::string("GET /v1/\x01health HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("POST /v1/events HTTP/1.1\r\nContent-Length: -5\r\n\r\n")}) {
    http_client bad{n.api_port()};
    bad.send_raw(garbage);
    auto reply = bad.read_reply();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->status == 400, garbage);
    BOOST_TEST(bad.wait_closed());
  }
  BOOST_TEST(keeper.get("/v1/health").status == 200); // its connection lived on
  others_are_served(n, receiver, "garbage");
  BOOST_TEST(n.stop() == 0);
}
