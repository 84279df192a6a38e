// Control requests: every op line parsed once into a typed request, and the
// op table that says who answers each.
#define BOOST_TEST_MODULE control
#include <boost/test/unit_test.hpp>

#include "control/control_request.hpp"

#include <set>
#include <string>

using namespace volley;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

control_request must_parse(const std::string& op, const std::string& line) {
  auto parsed = parse_control_request(op, line);
  BOOST_REQUIRE_MESSAGE(parsed.request.has_value(), "refused: " << parsed.error);
  return *parsed.request;
}

std::string error_for(const std::string& op, const std::string& line) {
  auto parsed = parse_control_request(op, line);
  BOOST_TEST(!parsed.request.has_value());
  return parsed.error;
}

} // namespace

BOOST_AUTO_TEST_SUITE(op_table)

BOOST_AUTO_TEST_CASE(every_op_has_one_entry_and_one_owner) {
  std::set<std::string> names;
  for (const auto& info : control_ops()) {
    BOOST_TEST(names.insert(info.name).second, "twice: " << info.name);
    BOOST_TEST(std::string{control_op_of(info.op).name} == info.name);
    BOOST_TEST(find_control_op(info.name) == &info);
  }
  BOOST_TEST(names.size() == 16u);
}

BOOST_AUTO_TEST_CASE(owners) {
  auto owner = [](const char* op) { return find_control_op(op)->owner; };
  BOOST_TEST((owner("stats") == control_owner::monitor));
  BOOST_TEST((owner("failures") == control_owner::monitor));
  BOOST_TEST((owner("queue") == control_owner::store_reader));
  BOOST_TEST((owner("dlq.list") == control_owner::store_reader));
  BOOST_TEST((owner("dlq.retry") == control_owner::persistence));
  BOOST_TEST((owner("dlq.delete") == control_owner::persistence));
  BOOST_TEST((owner("test") == control_owner::subscriber));
  BOOST_TEST((owner("subscriber.enable") == control_owner::subscriber));
  BOOST_TEST((owner("reload") == control_owner::node));
  BOOST_TEST((owner("cluster") == control_owner::node));
}

BOOST_AUTO_TEST_CASE(an_unknown_op_names_the_known_ones) {
  auto err = error_for("purge", R"({"op":"purge"})");
  BOOST_TEST(err ==
             "unknown op \"purge\" (known: stats, health, subscribers, failures, queue, test, "
             "dlq.list, dlq.retry, dlq.delete, subscriber.enable, subscriber.disable, reload, cluster, "
             "events.show, events.list, events.replay)");
  // The first line's op, once authenticated, is no op at all.
  BOOST_TEST(contains(error_for("auth", R"({"op":"auth","token":"x"})"), "unknown op \"auth\""));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(counts_and_health)

BOOST_AUTO_TEST_CASE(hours_and_limit_are_clamped_and_optional) {
  BOOST_TEST(must_parse("stats", R"({"op":"stats"})").hours == 0);
  BOOST_TEST(must_parse("stats", R"({"op":"stats","hours":6})").hours == 6);
  BOOST_TEST(must_parse("stats", R"({"op":"stats","hours":99})").hours == 24);
  BOOST_TEST(must_parse("stats", R"({"op":"stats","hours":0})").hours == 1);
  BOOST_TEST(must_parse("stats", R"({"op":"stats","hours":"6"})").hours == 0); // ignored
  BOOST_TEST(must_parse("failures", R"({"op":"failures"})").limit == 20u);
  BOOST_TEST(must_parse("failures", R"({"op":"failures","limit":5000})").limit == 1000u);
  BOOST_TEST(must_parse("health", R"({"op":"health","extra":[1,2]})").name() == std::string{"health"});
}

BOOST_AUTO_TEST_CASE(subscriber_ops_need_a_name) {
  auto req = must_parse("subscriber.disable", R"({"op":"subscriber.disable","subscriber":"billing"})");
  BOOST_TEST((req.op == control_op::subscriber_disable));
  BOOST_TEST(req.subscriber == "billing");
  for (const char* op : {"test", "subscriber.enable", "subscriber.disable"}) {
    for (std::string line :
         {R"({"op":"x"})", R"({"op":"x","subscriber":""})", R"({"op":"x","subscriber":3})"})
      BOOST_TEST(error_for(op, line) ==
                 std::string{op} + " needs \"subscriber\": the name of a configured subscriber");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dead_letters)

BOOST_AUTO_TEST_CASE(list_request) {
  auto req = must_parse("dlq.list", R"({"op":"dlq.list"})");
  BOOST_TEST(req.subscriber.empty());
  BOOST_TEST(!req.after);
  BOOST_TEST(req.limit == 100u);

  auto full =
    must_parse("dlq.list", R"({"op":"dlq.list","subscriber":"billing","after":"billing/9","limit":10})");
  BOOST_TEST(full.subscriber == "billing");
  BOOST_REQUIRE(full.after);
  BOOST_TEST(full.after->event_seq == 9u);
  BOOST_TEST(full.limit == 10u);
}

BOOST_AUTO_TEST_CASE(retry_and_delete_requests) {
  for (std::string op : {"dlq.retry", "dlq.delete"}) {
    auto one = must_parse(op, R"({"op":")" + op + R"(","key":"billing/3"})");
    BOOST_REQUIRE(one.key);
    BOOST_TEST(one.key->subscriber == "billing");
    BOOST_TEST(one.key->event_seq == 3u);

    auto all = must_parse(op, R"({"op":")" + op + R"(","subscriber":"audit"})");
    BOOST_TEST(all.subscriber == "audit");

    auto err = error_for(op, R"({"op":")" + op + R"("})");
    BOOST_TEST(contains(err, "key"));
    BOOST_TEST(contains(err, "subscriber"));
  }
}

BOOST_AUTO_TEST_CASE(request_errors) {
  BOOST_TEST(!error_for("dlq.list", "{").empty());
  BOOST_TEST(!error_for("dlq.list", "[]").empty());
  BOOST_TEST(contains(error_for("dlq.list", R"({"subscriber":""})"), "subscriber"));
  BOOST_TEST(contains(error_for("dlq.list", R"({"subscriber":5})"), "subscriber"));
  BOOST_TEST(contains(error_for("dlq.retry", R"({"key":"billing"})"), "key"));
  BOOST_TEST(contains(error_for("dlq.retry", R"({"key":42})"), "key"));
  BOOST_TEST(contains(error_for("dlq.list", R"({"after":"x/"})"), "after"));
  for (const char* limit : {"0", "10001", "-1", "1.5", R"("5")", "null"})
    BOOST_TEST(contains(error_for("dlq.list", R"({"limit":)" + std::string{limit} + "}"), "limit"));
  BOOST_TEST(error_for("dlq.delete", R"({"key":"a/1","force":true})") ==
             "unknown field \"force\" for dlq.delete");

  BOOST_TEST(must_parse("dlq.list", R"({"limit":10000})").limit == 10000u);
  BOOST_TEST(must_parse("dlq.list", R"({"limit":1})").limit == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(delivery_log)

BOOST_AUTO_TEST_CASE(show_and_replay_need_an_id) {
  auto show = must_parse("events.show", R"({"op":"events.show","id":"ord_1"})");
  BOOST_TEST(show.event_id == "ord_1");
  BOOST_TEST((show.owner() == control_owner::store_reader));
  auto replay = must_parse("events.replay", R"({"op":"events.replay","id":"ord_1","subscriber":"billing"})");
  BOOST_TEST(replay.subscriber == "billing");
  BOOST_TEST((replay.owner() == control_owner::persistence));
  BOOST_TEST(error_for("events.show", R"({"op":"events.show"})") ==
             "events.show needs \"id\": the event's id");
  BOOST_TEST(error_for("events.show", R"({"id":"x","subscriber":"b"})") ==
             "unknown field \"subscriber\" for events.show");
}

BOOST_AUTO_TEST_CASE(list_filters) {
  auto all = must_parse("events.list", R"({"op":"events.list"})");
  BOOST_TEST(!all.failed_only);
  BOOST_TEST(all.within_ms == 0);
  BOOST_TEST(all.limit == 100u);
  auto some =
    must_parse("events.list", R"({"subscriber":"billing","status":"failed","since":"1h","limit":5})");
  BOOST_TEST(some.failed_only);
  BOOST_TEST(some.within_ms == 3600 * 1000);
  BOOST_TEST(some.subscriber == "billing");
  BOOST_TEST(must_parse("events.list", R"({"since":90})").within_ms == 90000);
  BOOST_TEST(contains(error_for("events.list", R"({"since":"soon"})"), "since"));
  BOOST_TEST(contains(error_for("events.list", R"({"status":"broken"})"), "status"));
  BOOST_TEST(contains(error_for("events.list", R"({"limit":0})"), "limit"));
}

BOOST_AUTO_TEST_CASE(durations) {
  BOOST_TEST(parse_duration_ms("90s").value() == 90000);
  BOOST_TEST(parse_duration_ms("30m").value() == 1800000);
  BOOST_TEST(parse_duration_ms("2d").value() == 172800000);
  BOOST_TEST(parse_duration_ms("15").value() == 15000);
  for (const char* bad : {"", "h", "1x", "-1h", "1.5h"})
    BOOST_TEST(!parse_duration_ms(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
