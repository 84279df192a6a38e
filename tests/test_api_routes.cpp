#define BOOST_TEST_MODULE api_routes
#include <boost/test/unit_test.hpp>

// The plain parts of the HTTP API: request targets, the route table, the
// bearer token check and the responder's once-only contract.

#include "api/bearer_token.hpp"
#include "api/request_target.hpp"
#include "api/responder.hpp"
#include "api/route_table.hpp"

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace volley;

namespace {

request_target target(std::string_view text) {
  std::string error;
  auto parsed = parse_request_target(text, error);
  if (!parsed)
    throw std::runtime_error("unexpected parse failure: " + error);
  return *parsed;
}

// A handler that records which route ran.
api_handler named(std::string name, std::string& ran) {
  return [name, &ran](const api_request&, responder) { ran = name; };
}

route_match match(const route_table& routes, std::string_view method, std::string_view path) {
  return routes.match(method, target(path).segments);
}

} // namespace

BOOST_AUTO_TEST_CASE(target_splits_path_and_decodes_segments_and_query) {
  auto t = target("/v1/subscribers/a%2Fb%20c/test?hours=2&name=x+y%21&flag&hours=9");
  BOOST_TEST(t.path == "/v1/subscribers/a%2Fb%20c/test");
  BOOST_TEST(t.segments == (std::vector<std::string>{"v1", "subscribers", "a/b c", "test"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.query.at("hours") == "2"); // the first of a repeated key
  BOOST_TEST(t.query.at("name") == "x y!");
  BOOST_TEST(t.query.at("flag") == "");
  BOOST_TEST(t.query.size() == 3u);
}

BOOST_AUTO_TEST_CASE(target_keeps_plus_in_paths_and_reads_absolute_form) {
  BOOST_TEST(target("/a+b").segments.at(0) == "a+b");
  BOOST_TEST(target("/").segments.empty());
  BOOST_TEST(target("/a/").segments.size() == 2u); // a trailing slash is an empty segment
  auto absolute = target("http://example.com:7401/v1/health?x=1");
  BOOST_TEST(absolute.path == "/v1/health");
  BOOST_TEST(absolute.query.at("x") == "1");
}

BOOST_AUTO_TEST_CASE(target_refuses_bad_escapes_and_non_paths) {
  std::string error;
  BOOST_TEST(!parse_request_target("/a%zz", error));
  BOOST_TEST(error.find("path") != std::string::npos);
  BOOST_TEST(!parse_request_target("/a?x=%4", error));
  BOOST_TEST(error.find("query") != std::string::npos);
  BOOST_TEST(!parse_request_target("*", error));
  BOOST_TEST(!parse_request_target("v1/health", error));
  BOOST_TEST(percent_decode("%41%62+", false).value() == "Ab+");
  BOOST_TEST(percent_decode("%41%62+", true).value() == "Ab ");
  BOOST_TEST(!percent_decode("%", false));
}

BOOST_AUTO_TEST_CASE(routes_match_literals_and_bind_parameters) {
  std::string ran;
  route_table routes;
  routes.add("GET", "/v1/health", named("health", ran));
  routes.add("PUT", "/v1/subscribers/{name}", named("put", ran));
  routes.add("POST", "/v1/subscribers/{name}/test", named("test", ran));

  auto m = match(routes, "PUT", "/v1/subscribers/bill%2Fing");
  BOOST_REQUIRE(m.outcome == route_match::result::found);
  BOOST_TEST(m.params.at("name") == "bill/ing");
  (*m.handler)(api_request{}, responder([](api_response) {}));
  BOOST_TEST(ran == "put");

  BOOST_TEST((match(routes, "GET", "/v1/health").outcome == route_match::result::found));
  BOOST_TEST((match(routes, "GET", "/v1/health/").outcome == route_match::result::no_such_path));
  BOOST_TEST((match(routes, "GET", "/v1").outcome == route_match::result::no_such_path));
  BOOST_TEST((match(routes, "GET", "/v1/subscribers/a/b").outcome == route_match::result::no_such_path));
}

BOOST_AUTO_TEST_CASE(wrong_method_lists_every_allowed_one) {
  std::string ran;
  route_table routes;
  routes.add("POST", "/v1/dlq/retry", named("retry", ran));
  routes.add("DELETE", "/v1/dlq/{key}", named("delete", ran));
  routes.add("GET", "/v1/dlq/{key}", named("get", ran));

  auto m = match(routes, "PATCH", "/v1/dlq/retry");
  BOOST_REQUIRE(m.outcome == route_match::result::method_not_allowed);
  BOOST_TEST(m.allowed == (std::vector<std::string>{"DELETE", "GET", "POST"}),
             boost::test_tools::per_element());

  auto other = match(routes, "POST", "/v1/dlq/abc");
  BOOST_REQUIRE(other.outcome == route_match::result::method_not_allowed);
  BOOST_TEST(other.allowed == (std::vector<std::string>{"DELETE", "GET"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_literal_segment_beats_a_parameter) {
  std::string ran;
  route_table routes;
  routes.add("POST", "/v1/events/{id}", named("param", ran));
  routes.add("POST", "/v1/events/replay", named("literal", ran));
  auto m = match(routes, "POST", "/v1/events/replay");
  BOOST_REQUIRE(m.outcome == route_match::result::found);
  (*m.handler)(api_request{}, responder([](api_response) {}));
  BOOST_TEST(ran == "literal");
  BOOST_TEST(m.params.empty());
}

BOOST_AUTO_TEST_CASE(malformed_or_unreachable_patterns_are_refused) {
  std::string ran;
  route_table routes;
  routes.add("GET", "/v1/items/{id}", named("a", ran));
  BOOST_CHECK_THROW(routes.add("GET", "/v1/items/{other}", named("b", ran)), std::invalid_argument);
  BOOST_CHECK_THROW(routes.add("GET", "v1/items", named("b", ran)), std::invalid_argument);
  BOOST_CHECK_THROW(routes.add("GET", "/v1/x{id}", named("b", ran)), std::invalid_argument);
  BOOST_CHECK_THROW(routes.add("GET", "/v1/{a}/{a}", named("b", ran)), std::invalid_argument);
  BOOST_CHECK_THROW(routes.add("GET", "/v1//x", named("b", ran)), std::invalid_argument);
  BOOST_CHECK_THROW(routes.add("GET", "/v1/{}", named("b", ran)), std::invalid_argument);
  BOOST_CHECK_THROW(routes.add("GET", "/v1/y", api_handler{}), std::invalid_argument);
  routes.add("DELETE", "/v1/items/{id}", named("c", ran)); // another method is fine
}

BOOST_AUTO_TEST_CASE(bearer_token_accepts_only_the_configured_token) {
  bearer_token none("");
  BOOST_TEST(!none.required());
  BOOST_TEST(none.accepts(std::nullopt));

  bearer_token token("s3cret");
  BOOST_TEST(token.required());
  BOOST_TEST(token.accepts(std::string_view("Bearer s3cret")));
  BOOST_TEST(token.accepts(std::string_view("bearer s3cret")));
  BOOST_TEST(!token.accepts(std::nullopt));
  BOOST_TEST(!token.accepts(std::string_view("Bearer s3cre")));
  BOOST_TEST(!token.accepts(std::string_view("Bearer s3cret2")));
  BOOST_TEST(!token.accepts(std::string_view("Bearer ")));
  BOOST_TEST(!token.accepts(std::string_view("Basic s3cret")));
  BOOST_TEST(!token.accepts(std::string_view("s3cret")));
  BOOST_TEST(!token.accepts(std::string_view("Bearers3cret")));
}

BOOST_AUTO_TEST_CASE(responder_delivers_once_and_a_dropped_one_answers_500) {
  std::vector<api_response> delivered;
  {
    responder r([&](api_response response) { delivered.push_back(std::move(response)); });
    responder copy = r;
    BOOST_TEST(!copy.answered());
    BOOST_TEST(r(api_response::json(201, "{}")));
    BOOST_TEST(copy.answered());
    BOOST_TEST(!copy(api_response::json(202, "{}"))); // too late: the first call won
  }
  BOOST_REQUIRE(delivered.size() == 1u);
  BOOST_TEST(delivered[0].status == 201);

  delivered.clear();
  {
    responder r([&](api_response response) { delivered.push_back(std::move(response)); });
    responder copy = r; // dropping one copy is not dropping the request
  }
  BOOST_REQUIRE(delivered.size() == 1u);
  BOOST_TEST(delivered[0].status == 500);
  BOOST_TEST(delivered[0].content_type == "application/json");
  BOOST_TEST(delivered[0].body.find("{\"error\":\"") == 0u);
}

BOOST_AUTO_TEST_CASE(responder_called_from_racing_threads_delivers_once) {
  std::atomic<int> deliveries{0};
  responder r([&](api_response) { ++deliveries; });
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([r] { r(api_response::json(200, "{}")); });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(deliveries.load() == 1);
}

BOOST_AUTO_TEST_CASE(error_bodies_are_json_with_escapes) {
  auto e = api_response::error(404, "no such endpoint: GET /a\"b\\c\n");
  BOOST_TEST(e.status == 404);
  BOOST_TEST(e.body == "{\"error\":\"no such endpoint: GET /a\\\"b\\\\c\\n\"}");
}
