// The API's requests and answers as plain functions, without a server:
// events read with the TCP ingress's parser, control parameters, how each
// answer maps to a status, and the guard against web pages.

#define BOOST_TEST_MODULE api_requests
#include <boost/test/unit_test.hpp>

#include "api/control_endpoints.hpp"
#include "api/event_intake.hpp"
#include "api/request_guard.hpp"
#include "protocol/dlq_entries.hpp"
#include "protocol/ingress_line.hpp"

#include <string>
#include <vector>

using namespace volley;

namespace {

api_request post(std::string body, std::string content_type = "application/json") {
  api_request r;
  r.method = "POST";
  r.body = std::move(body);
  if (!content_type.empty())
    r.headers.emplace_back("content-type", std::move(content_type));
  return r;
}

api_request query(std::map<std::string, std::string> q, std::map<std::string, std::string> path = {}) {
  api_request r;
  r.method = "GET";
  r.query = std::move(q);
  r.path_params = std::move(path);
  return r;
}

const std::string ok_line = "{\"ok\":true,\"id\":\"e1\"}\n";
const std::string storage_line = "{\"ok\":false,\"error\":\"not accepted: storage is full\"}\n";

} // namespace

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(one_event_is_answered_with_its_ingress_answer) {
  auto in = read_events(post(R"({"type":"a","id":"e1"})"), 1024);
  BOOST_TEST(!in.refused.has_value());
  BOOST_REQUIRE_EQUAL(in.events.size(), 1u);
  BOOST_TEST(in.events[0].id == "e1");
  auto out = events_response(in, {ok_line});
  BOOST_TEST(out.status == 200);
  BOOST_TEST(out.body == "{\"ok\":true,\"id\":\"e1\"}");
  // No Content-Type means one JSON event too; parameters are ignored.
  BOOST_TEST(read_events(post(R"({"type":"a"})", ""), 1024).events.size() == 1u);
  BOOST_TEST(read_events(post(R"({"type":"a"})", "Application/JSON; charset=utf-8"), 1024).events.size() ==
             1u);
}

BOOST_AUTO_TEST_CASE(a_refused_event_is_503_and_says_why) {
  auto in = read_events(post(R"({"type":"a"})"), 1024);
  auto out = events_response(in, {storage_line});
  BOOST_TEST(out.status == 503);
  BOOST_TEST(out.body == "{\"error\":\"not accepted: storage is full\"}");
  BOOST_TEST(out.headers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_malformed_event_is_400_with_the_parsers_message) {
  const std::string body = R"({"type": "a", "data": [1,}})";
  auto in = read_events(post(body), 1024);
  BOOST_REQUIRE(in.refused.has_value());
  BOOST_TEST(in.refused->status == 400);
  const auto tcp = parse_ingress_line(body).error;
  BOOST_TEST(tcp.find("invalid JSON at offset 25") == 0u, tcp);
  BOOST_TEST(in.refused->body == "{\"error\":\"" + tcp + "\"}");
  BOOST_TEST(in.invalid == 1u);
  BOOST_TEST(read_events(post(R"({"data": 1})"), 1024).refused->body.find("\\\"type\\\" is required") !=
             std::string::npos);
  BOOST_TEST(read_events(post(""), 1024).refused->status == 400);
  BOOST_TEST(read_events(post(R"({"op":"stats"})"), 1024).refused->body.find("control ops") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(sizes_and_types_are_refused_before_parsing) {
  auto big = read_events(post(R"({"type":")" + std::string(100, 'x') + "\"}"), 64);
  BOOST_TEST(big.refused->status == 413);
  BOOST_TEST(big.refused->body.find("ingress.max_line_bytes") != std::string::npos);
  auto form = read_events(post("type=a", "application/x-www-form-urlencoded"), 1024);
  BOOST_TEST(form.refused->status == 415);
  BOOST_TEST(form.refused->body.find("application/x-ndjson") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ndjson_answers_every_line_as_the_ingress_would) {
  const std::string body = "{\"type\":\"a\",\"id\":\"e1\"}\n"
                           "{bad\n"
                           "\n"
                           "{\"type\":\"" +
                           std::string(40, 'x') +
                           "\"}\n"
                           "{\"op\":\"stats\"}\n"
                           "{\"type\":\"b\"}"; // no final newline: still a line
  auto in = read_events(post(body, "application/x-ndjson"), 32);
  BOOST_TEST(!in.refused.has_value());
  BOOST_REQUIRE_EQUAL(in.answers.size(), 6u);
  BOOST_REQUIRE_EQUAL(in.events.size(), 2u);
  BOOST_TEST(in.invalid == 4u);
  BOOST_TEST(*in.answers[1] == error_line(parse_ingress_line("{bad").error));
  BOOST_TEST(*in.answers[2] == error_line("empty line: expected one JSON object"));
  BOOST_TEST(*in.answers[3] == error_line("line longer than 32 bytes (ingress.max_line_bytes)"));
  auto out = events_response(in, {ok_line, storage_line});
  BOOST_TEST(out.status == 200);
  BOOST_TEST(out.body.front() == '[');
  BOOST_TEST(
    out.body.find("{\"ok\":true,\"id\":\"e1\"},{\"ok\":false,\"error\":\"invalid JSON at offset 1") == 1u,
    out.body);
  BOOST_TEST(out.body.find("not accepted: storage is full\"}]") != std::string::npos, out.body);
  // A trailing newline ends the last line; it does not start another.
  BOOST_TEST(read_events(post("{\"type\":\"a\"}\n", "application/x-ndjson"), 1024).answers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(ndjson_with_nothing_accepted_is_400_or_503) {
  auto bad = read_events(post("{bad\n[]\n", "application/x-ndjson"), 1024);
  BOOST_TEST(bad.events.empty());
  auto out = events_response(bad, {});
  BOOST_TEST(out.status == 400);
  BOOST_TEST(out.body.find("\"error\":\"no line holds a valid event (line 1: invalid JSON") == 1u, out.body);
  BOOST_TEST(out.body.find("\"results\":[{\"ok\":false") != std::string::npos, out.body);
  auto refused = read_events(post("{\"type\":\"a\"}\n{\"type\":\"b\"}\n", "application/x-ndjson"), 1024);
  auto storage = events_response(refused, {storage_line, storage_line});
  BOOST_TEST(storage.status == 503);
  BOOST_TEST(storage.body.find("storage refused them") != std::string::npos, storage.body);
  BOOST_TEST(read_events(post("", "application/x-ndjson"), 1024).refused->status == 400);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(control)

BOOST_AUTO_TEST_CASE(query_parameters_are_checked_strictly) {
  auto stats = read_control_query(query({{"hours", "6"}}), control_op::stats);
  BOOST_REQUIRE(stats.request.has_value());
  BOOST_TEST(stats.request->hours == 6);
  BOOST_TEST(read_control_query(query({}), control_op::stats).request->hours == 0);
  for (const char* bad : {"0", "25", "2x", "", "-1"}) {
    auto refused = read_control_query(query({{"hours", bad}}), control_op::stats);
    BOOST_TEST(!refused.request.has_value());
    BOOST_TEST(refused.refused->status == 400);
    BOOST_TEST(refused.refused->body.find("from 1 to 24") != std::string::npos);
  }
  auto unknown = read_control_query(query({{"hour", "1"}}), control_op::stats);
  BOOST_TEST(unknown.refused->body.find("unknown query parameter \\\"hour\\\" for stats (it takes: hours)") !=
               std::string::npos,
             unknown.refused->body);
  BOOST_TEST(read_control_query(query({{"x", "1"}}), control_op::health).refused->body.find("takes none") !=
             std::string::npos);
  BOOST_TEST(read_control_query(query({{"limit", "5"}}), control_op::failures).request->limit == 5u);
  BOOST_TEST(read_control_query(query({}), control_op::failures).request->limit == default_failures_limit);
  BOOST_TEST(!read_control_query(query({{"limit", "1001"}}), control_op::failures).request);
}

BOOST_AUTO_TEST_CASE(dlq_requests_take_keys_and_subscribers) {
  auto list = read_control_query(query({{"subscriber", "billing"}, {"after", "billing/7"}, {"limit", "3"}}),
                                 control_op::dlq_list);
  BOOST_REQUIRE(list.request.has_value());
  BOOST_TEST(list.request->subscriber == "billing");
  BOOST_TEST(list.request->after->event_seq == 7u);
  BOOST_TEST(list.request->limit == 3u);
  BOOST_TEST(!read_control_query(query({{"after", "nope"}}), control_op::dlq_list).request);

  auto retry = read_dlq_retry(post(R"({"key": "billing/42"})"));
  BOOST_REQUIRE(retry.request.has_value());
  BOOST_TEST((retry.request->op == control_op::dlq_retry));
  BOOST_TEST(retry.request->key->event_seq == 42u);
  BOOST_TEST(read_dlq_retry(post(R"({"subscriber": "billing"})")).request->subscriber == "billing");
  BOOST_TEST(read_dlq_retry(post("{}")).refused->body.find("needs \\\"key\\\"") != std::string::npos);
  BOOST_TEST(read_dlq_retry(post(R"({"key": "b/1", "x": 1})")).refused->body.find("unknown field") !=
             std::string::npos);
  BOOST_TEST(read_dlq_retry(post("[1]")).refused->status == 400);
  BOOST_TEST(read_dlq_retry(post("{}", "text/plain")).refused->status == 415);

  api_request encoded;
  encoded.path_params = {{"key", "billing/42"}};
  BOOST_TEST(read_dlq_delete(encoded).request->key->subscriber == "billing");
  api_request split;
  split.path_params = {{"subscriber", "billing"}, {"seq", "42"}};
  BOOST_TEST(read_dlq_delete(split).request->key->event_seq == 42u);
  api_request bad;
  bad.path_params = {{"subscriber", "billing"}, {"seq", "x"}};
  BOOST_TEST(read_dlq_delete(bad).refused->status == 400);
}

BOOST_AUTO_TEST_CASE(answers_map_to_statuses) {
  control_request health;
  health.op = control_op::health;
  auto ok =
    control_response(health, {control_answer::kind::answered, "{\"ok\":true,\"status\":\"healthy\"}\n"});
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.body == "{\"ok\":true,\"status\":\"healthy\"}");
  auto unknown = control_response(
    health, {control_answer::kind::no_such_subscriber, error_line("no subscriber named \"x\"")});
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(unknown.body == "{\"error\":\"no subscriber named \\\"x\\\"\"}");
  BOOST_TEST(control_response(health, {control_answer::kind::failed, error_line("down")}).status == 503);
  BOOST_TEST(control_response(health, {control_answer::kind::answered, error_line("queue failed")}).status ==
             503);

  control_request one;
  one.op = control_op::dlq_delete;
  one.key = delivery_key{"billing", 42};
  // The node refuses a key that is not there; HTTP says 404 with its words.
  auto missing = control_response(
    one, {control_answer::kind::answered, error_line(no_dlq_entry_error(delivery_key{"billing", 42}))});
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(missing.body.rfind("{\"error\":\"no dead-letter entry billing/42 on this node", 0) == 0u);
  BOOST_TEST(control_response(one, {control_answer::kind::answered, "{\"ok\":true,\"count\":1}\n"}).status ==
             200);
  control_request all = one;
  all.key.reset();
  all.subscriber = "billing";
  BOOST_TEST(control_response(all, {control_answer::kind::answered, "{\"ok\":true,\"count\":0}\n"}).status ==
             200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(web_pages_are_kept_out) {
  api_request plain;
  plain.headers = {{"host", "127.0.0.1:7401"}};
  BOOST_TEST(!refuse_browser_request(plain, false));
  for (const char* host : {"localhost:7401", "LOCALHOST", "[::1]:7401", "10.0.0.5"}) {
    api_request r;
    r.headers = {{"host", host}};
    BOOST_TEST(!refuse_browser_request(r, false), host);
  }
  api_request named;
  named.headers = {{"host", "rebind.example:7401"}};
  BOOST_TEST(refuse_browser_request(named, false)->status == 403);
  BOOST_TEST(!refuse_browser_request(named, true)); // with a token, host names are fine
  api_request no_host;                              // HTTP/1.0
  BOOST_TEST(!refuse_browser_request(no_host, false));
}

// The dashboard is served by the API itself: its requests carry an Origin
// naming the Host they are addressed to. Any other Origin is another page.
BOOST_AUTO_TEST_CASE(only_the_apis_own_page_may_send_an_origin) {
  auto request = [](std::string host, std::string origin) {
    api_request r;
    if (!host.empty())
      r.headers.emplace_back("host", host);
    r.headers.emplace_back("origin", origin);
    return r;
  };
  for (bool token : {false, true}) {
    BOOST_TEST(!refuse_browser_request(request("127.0.0.1:7401", "http://127.0.0.1:7401"), token));
    BOOST_TEST(!refuse_browser_request(request("localhost:7401", "HTTP://LocalHost:7401"), token));
    BOOST_TEST(!refuse_browser_request(request("[::1]:7401", "http://[::1]:7401"), token));
    BOOST_TEST(!refuse_browser_request(request("127.0.0.1:7401", "https://127.0.0.1:7401"), token));
    BOOST_TEST(!refuse_browser_request(request("127.0.0.1", "http://127.0.0.1"), token));
    for (auto [host, origin] :
         {std::pair{"127.0.0.1:7401", "http://127.0.0.1:3000"}, // another local app
          std::pair{"127.0.0.1:7401", "http://evil.example"},
          std::pair{"127.0.0.1:7401", "http://localhost:7401"}, // not the same origin
          std::pair{"127.0.0.1:7401", "null"},                  // sandboxed, file://
          std::pair{"127.0.0.1:7401", "http://127.0.0.1:7401/"},
          std::pair{"127.0.0.1:7401", "ftp://127.0.0.1:7401"}, std::pair{"127.0.0.1:7401", ""},
          std::pair{"", "http://127.0.0.1:7401"}}) { // no Host to match
      auto refused = refuse_browser_request(request(host, origin), token);
      BOOST_TEST_REQUIRE(refused.has_value(), host << " " << origin);
      BOOST_TEST(refused->status == 403);
      BOOST_TEST(refused->body.find("Origin") != std::string::npos);
    }
  }
  // A rebinding page is same-origin with itself; without a token its host
  // name is what refuses it, with one it would need the token.
  auto rebinding = request("rebind.example:7401", "http://rebind.example:7401");
  BOOST_TEST(refuse_browser_request(rebinding, false)->status == 403);
  BOOST_TEST(refuse_browser_request(rebinding, false)->body.find("api.token") != std::string::npos);
  BOOST_TEST(!refuse_browser_request(rebinding, true));
}
