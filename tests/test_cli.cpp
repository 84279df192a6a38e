// The `volley` CLI's tables: canned daemon replies (the shapes volleyd
// answers with) rendered by the same functions the commands call.

#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "cli/reply_cells.hpp"
#include "cli/reply_tables.hpp"
#include "cli/stats_tables.hpp"
#include "cli/text_table.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using namespace volley::cli;

namespace {

// 2026-11-23T13:40:00.123Z
constexpr int64_t now_ms = 1795441200123;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t newline; (newline = text.find('\n', start)) != std::string::npos; start = newline + 1)
    lines.push_back(text.substr(start, newline - start));
  if (start < text.size())
    lines.push_back(text.substr(start));
  return lines;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A stats answer: the node, a busy subscriber with a backlog on disk, an
// idle one (no attempts: its 100 % and 0 ms mean "nothing measured"), the
// "24h" window twice as the daemon sends it for --hours 24, and a 3h window.
const char* const stats_reply = R"({"ok":true,
 "node":{"node":true,"status":"degraded","delivered":90,"failed":10,"dead_lettered":2,
   "attempts":100,"success_rate":90,"p50_ms":4.14,"p99_ms":1560.5,"slow":1,"avg_attempts":1.1,
   "queued":42,"dlq":7,
   "windows":{
     "1m":{"delivered":9,"failed":1,"dead_lettered":0,"attempts":10,"success_rate":90,
           "p50_ms":4.14,"p99_ms":15.78,"successes":9,"slow":0,"avg_attempts":1,"avg_ms":5.36,
           "outcomes":{"200":9,"timeout":1}},
     "24h":{"delivered":90,"failed":10,"dead_lettered":2,"attempts":100,"success_rate":90,
           "p50_ms":4.14,"p99_ms":1560.5,"successes":90,"slow":1,"avg_attempts":1.1,
           "avg_ms":20.5,"outcomes":{"200":90,"503":8,"timeout":2}},
     "1h":{"delivered":50,"failed":5,"dead_lettered":1,"attempts":55,"success_rate":90.91,
           "p50_ms":4.14,"p99_ms":120.2,"successes":50,"slow":0,"avg_attempts":1.1,
           "avg_ms":10,"outcomes":{"200":50,"503":5}},
     "24h":{"delivered":1,"failed":0,"dead_lettered":0,"attempts":1,"success_rate":100,
           "p50_ms":1,"p99_ms":1,"successes":1,"slow":0,"avg_attempts":1,"avg_ms":1,
           "outcomes":{"200":1}},
     "3h":{"delivered":60,"failed":6,"dead_lettered":1,"attempts":66,"success_rate":90.91,
           "p50_ms":4.14,"p99_ms":120.2,"successes":60,"slow":0,"avg_attempts":1.1,
           "avg_ms":10,"outcomes":{"200":60,"503":6}}},
   "since_start":{"delivered":95,"failed":10,"dead_lettered":2,"attempts":105,
     "success_rate":90.48,"p50_ms":4.14,"p99_ms":1560.5,"successes":95,"slow":1,
     "avg_attempts":1.1,"avg_ms":20,"outcomes":{"200":95,"503":8,"timeout":2}},
   "window_s":300},
 "subscribers":[
  {"subscriber":"billing","status":"degraded","breaker":"closed","enabled":true,
   "delivered":90,"failed":10,"dead_lettered":2,"attempts":100,"success_rate":90,
   "p50_ms":4.14,"p99_ms":1560.5,"slow":1,"consecutive_failures":0,"in_flight":3,"queued":12,
   "backlog_on_disk":true,
   "windows":{"1m":{"delivered":9,"failed":1,"dead_lettered":0,"attempts":10,"success_rate":90,
     "p50_ms":4.14,"p99_ms":15.78,"successes":9,"slow":0,"avg_attempts":1,"avg_ms":5.36,
     "outcomes":{"200":9,"timeout":1}}},
   "since_start":{"delivered":95,"failed":10,"dead_lettered":2,"attempts":105,
     "success_rate":90.48,"p50_ms":4.14,"p99_ms":1560.5,"successes":95,"slow":1,
     "avg_attempts":1.1,"avg_ms":20,"outcomes":{"200":95,"503":8,"timeout":2}}},
  {"subscriber":"audit","status":"unknown","breaker":"open","enabled":false,
   "delivered":0,"failed":0,"dead_lettered":0,"attempts":0,"success_rate":100,
   "p50_ms":0,"p99_ms":0,"slow":0,"consecutive_failures":0,"in_flight":1,"queued":0,
   "backlog_on_disk":false,
   "windows":{"1m":{"delivered":0,"failed":0,"dead_lettered":0,"attempts":0,"success_rate":100,
     "p50_ms":0,"p99_ms":0,"successes":0,"slow":0,"avg_attempts":0,"avg_ms":0,"outcomes":{}}},
   "since_start":{"delivered":0,"failed":0,"dead_lettered":0,"attempts":0,"success_rate":100,
     "p50_ms":0,"p99_ms":0,"successes":0,"slow":0,"avg_attempts":0,"avg_ms":0,"outcomes":{}}}],
 "event_types":[
  {"type":"order.created","windows":{
     "1m":{"delivered":9,"failed":1,"dead_lettered":0,"attempts":10,"success_rate":90},
     "1h":{"delivered":50,"failed":5,"dead_lettered":0,"attempts":55,"success_rate":90.91},
     "24h":{"delivered":90,"failed":10,"dead_lettered":0,"attempts":100,"success_rate":90}}},
  {"type":"a.type.with.a.name.much.longer.than.the.column.allows","windows":{
     "1m":{"delivered":0,"failed":0,"dead_lettered":0,"attempts":0,"success_rate":100},
     "1h":{"delivered":0,"failed":0,"dead_lettered":0,"attempts":0,"success_rate":100},
     "24h":{"delivered":0,"failed":0,"dead_lettered":0,"attempts":0,"success_rate":100}}}]})";

} // namespace

BOOST_AUTO_TEST_SUITE(table)

BOOST_AUTO_TEST_CASE(aligns_columns_without_trailing_spaces) {
  text_table table({{"NAME"}, {"COUNT", text_table::align::right}, {"NOTE"}});
  table.add_row({"billing", "7", "fine"});
  table.add_row({"a", "1234567", ""});
  BOOST_TEST(table.rows() == 2u);
  BOOST_TEST(table.render() == "NAME       COUNT  NOTE\n"
                               "billing        7  fine\n"
                               "a        1234567\n");
}

BOOST_AUTO_TEST_CASE(cuts_long_cells_at_a_character_boundary) {
  text_table table({{"A", text_table::align::left, 8}, {"B", text_table::align::left, 2}});
  // "é" is two bytes and one character: eight characters fit untouched.
  table.add_row({"ééééé123", "xyz"});
  table.add_row({"ééééé1234", "x"});
  BOOST_TEST(table.render() == "A         B\n"
                               "ééééé123  xy\n"
                               "ééééé...  x\n");
}

BOOST_AUTO_TEST_CASE(shows_control_characters_as_spaces) {
  text_table table({{"ERROR"}});
  table.add_row({"line one\nline\x1b[31mtwo\t!"});
  BOOST_TEST(table.render() == "ERROR\nline one line [31mtwo !\n");
}

BOOST_AUTO_TEST_CASE(refuses_a_row_of_the_wrong_size) {
  text_table table({{"A"}, {"B"}});
  BOOST_CHECK_THROW(table.add_row({"only one"}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(counts_width_in_characters) {
  BOOST_TEST(display_width("abc") == 3u);
  BOOST_TEST(display_width("√é…") == 3u);
  BOOST_TEST(display_width("") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cells)

BOOST_AUTO_TEST_CASE(parses_the_daemons_timestamps) {
  BOOST_TEST(parse_rfc3339_ms("1970-01-01T00:00:00.000Z").value() == 0);
  BOOST_TEST(parse_rfc3339_ms("2026-11-23T13:40:00.123Z").value() == now_ms);
  BOOST_TEST(parse_rfc3339_ms("2000-02-29T23:59:59.999Z").value() == 951868799999);
  BOOST_TEST(parse_rfc3339_ms("1969-12-31T23:59:59.000Z").value() == -1000);
  for (const char* bad : {"", "2026-11-23T13:40:00Z", "2026-11-23 13:40:00.123Z", "2026-13-23T13:40:00.123Z",
                          "2026-11-23T13:40:00.12xZ", "2026-11-23T13:40:00.123+01"})
    BOOST_TEST(!parse_rfc3339_ms(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(formats_values_and_their_absence) {
  const auto document = parse_reply(
    R"({"n":42,"rate":99.456,"fast":0.418,"ms":3.25,"slow":1234.5,"none":0,"s":"",
          "yes":true,"at":"2026-11-23T13:39:15.123Z","old":"2026-11-20T13:40:00.123Z",
          "late":"2026-11-23T13:41:00.000Z","odd":"yesterday"})");
  BOOST_REQUIRE(document.has_value());
  const json_value* root = &*document;
  BOOST_TEST(count_cell(member(root, "n")) == "42");
  BOOST_TEST(count_cell(member(root, "missing")) == "-");
  BOOST_TEST(text_cell(member(root, "s")) == "-");
  BOOST_TEST(text_cell(member(root, "n")) == "42");
  BOOST_TEST(yes_no_cell(member(root, "yes")) == "yes");
  BOOST_TEST(yes_no_cell(member(root, "n")) == "-");
  BOOST_TEST(http_status_cell(member(root, "none")) == "-");
  BOOST_TEST(http_status_cell(member(root, "n")) == "42");
  BOOST_TEST(percent_cell(member(root, "rate"), true) == "99.5%");
  BOOST_TEST(percent_cell(member(root, "rate"), false) == "-");
  BOOST_TEST(latency_cell(member(root, "fast"), true) == "0.42ms");
  BOOST_TEST(latency_cell(member(root, "ms"), true) == "3.2ms");
  BOOST_TEST(latency_cell(member(root, "n"), true) == "42ms");
  BOOST_TEST(latency_cell(member(root, "slow"), true) == "1.2s");
  BOOST_TEST(latency_cell(member(root, "none"), true) == "-");
  BOOST_TEST(decimal_cell(member(root, "rate"), 2, true) == "99.46");
  BOOST_TEST(age_cell(member(root, "at"), now_ms) == "45s ago");
  BOOST_TEST(age_cell(member(root, "old"), now_ms) == "3d ago");
  BOOST_TEST(age_cell(member(root, "late"), now_ms) == "just now");
  BOOST_TEST(age_cell(member(root, "s"), now_ms) == "never");
  BOOST_TEST(age_cell(member(root, "odd"), now_ms) == "yesterday");
  BOOST_TEST(!parse_reply("[1,2]").has_value());
  BOOST_TEST(!parse_reply("{\"ok\":").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stats)

BOOST_AUTO_TEST_CASE(health_window_table_has_a_row_per_node_and_subscriber) {
  const auto text = render_stats_tables(stats_reply);
  BOOST_REQUIRE(text.has_value());
  const auto lines = lines_of(*text);
  BOOST_REQUIRE_GE(lines.size(), 9u);
  BOOST_TEST(lines[0] == "node degraded: 42 deliveries pending, 7 in the dead-letter queue");
  BOOST_TEST(lines[2] == "last 5m (monitor.window_s, what health is judged on):");
  BOOST_TEST(lines[3] == "NAME     STATUS    BREAKER  ENABLED  DELIVERED  FAILED  DEAD  SUCCESS    "
                         "P50   P99  QUEUED  IN-FLIGHT");
  // The node's in-flight is the subscribers' sum; "+": more waits on disk.
  BOOST_TEST(lines[4] == "(node)   degraded  -        -               90      10     2    90.0%  "
                         "4.1ms  1.6s      42          4");
  BOOST_TEST(lines[5] == "billing  degraded  closed   yes             90      10     2    90.0%  "
                         "4.1ms  1.6s     12+          3");
  // No attempts: no success rate or latency to speak of.
  BOOST_TEST(lines[6] == "audit    unknown   open     no               0       0     0        -  "
                         "    -     -       0          1");
}

BOOST_AUTO_TEST_CASE(windows_table_orders_windows_and_shows_each_once) {
  const auto text = render_stats_tables(stats_reply);
  BOOST_REQUIRE(text.has_value());
  const auto lines = lines_of(*text);
  size_t header = 0;
  while (header < lines.size() && lines[header].rfind("NAME     WINDOW", 0) != 0)
    ++header;
  BOOST_REQUIRE_LT(header + 9, lines.size());
  BOOST_TEST(lines[header] == "NAME     WINDOW       DELIVERED  FAILED  DEAD  ATTEMPTS  SUCCESS    "
                              "AVG    P50    P99  SLOW  TRIES  OUTCOMES");
  BOOST_TEST(lines[header + 1] == "(node)   1m                   9       1     0        10    90.0%  "
                                  "5.4ms  4.1ms   16ms     0   1.00  200:9 timeout:1");
  BOOST_TEST(lines[header + 2].rfind("         1h ", 0) == 0);
  BOOST_TEST(lines[header + 3].rfind("         3h ", 0) == 0);
  // The first "24h" wins, as with any JSON reader that finds members by name.
  BOOST_TEST(lines[header + 4] == "         24h                 90      10     2       100    90.0%  "
                                  " 20ms  4.1ms   1.6s     1   1.10  200:90 503:8 timeout:2");
  BOOST_TEST(lines[header + 5].rfind("         since start ", 0) == 0);
  BOOST_TEST(lines[header + 6].rfind("billing  1m ", 0) == 0);
  BOOST_TEST(lines[header + 7].rfind("         since start ", 0) == 0);
  BOOST_TEST(lines[header + 8] == "audit    1m                   0       0     0         0        -  "
                                  "    -      -      -     0      -  -");
}

BOOST_AUTO_TEST_CASE(event_types_table_counts_deliveries_per_window) {
  const auto text = render_stats_tables(stats_reply);
  BOOST_REQUIRE(text.has_value());
  const auto at = text->find("event types:\n");
  BOOST_REQUIRE(at != std::string::npos);
  BOOST_TEST(text->substr(at) ==
             "event types:\n"
             "EVENT TYPE                        DELIVERED 1m  DELIVERED 1h  DELIVERED 24h  "
             "ATTEMPTS 24h  FAILED 24h  SUCCESS 24h\n"
             "order.created                                9            50             90  "
             "         100          10        90.0%\n"
             "a.type.with.a.name.much.longe...             0             0              0  "
             "           0           0            -\n");
}

BOOST_AUTO_TEST_CASE(an_answer_without_a_node_is_left_to_the_generic_rendering) {
  BOOST_TEST(!render_stats_tables(R"({"ok":true})").has_value());
  BOOST_TEST(!render_stats_tables("not json").has_value());
  const auto bare = render_stats_tables(R"({"ok":true,"node":{"status":"unknown"}})");
  BOOST_REQUIRE(bare.has_value());
  BOOST_TEST(contains(*bare, "(node)  unknown  -        -"));
  BOOST_TEST(contains(*bare, "event types:\n(none yet)\n"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ops)

BOOST_AUTO_TEST_CASE(health_lists_the_node_first) {
  const auto text = render_health_table(
    R"({"ok":true,"status":"degraded","subscribers":{"billing":"healthy","crm":"unhealthy"}})");
  BOOST_REQUIRE(text.has_value());
  BOOST_TEST(*text == "NAME     STATUS\n"
                      "(node)   degraded\n"
                      "billing  healthy\n"
                      "crm      unhealthy\n");
  BOOST_TEST(!render_health_table(R"({"ok":true,"status":"healthy"})").has_value());
}

BOOST_AUTO_TEST_CASE(cluster_names_the_partitions_of_the_node_and_of_each_member) {
  const auto text =
    render_cluster(R"({"ok":true,"node":"a","group":"volley","partitions":[0,2],"state":"Stable","members":[)"
                   R"({"member":"m1","client":"a","host":"/127.0.0.1","partitions":[0,2]},)"
                   R"({"member":"m2","client":"b","host":"/127.0.0.1","partitions":[1]}]})");
  BOOST_REQUIRE(text.has_value());
  BOOST_TEST(contains(*text, "node a in group volley, partitions 0,2\n"));
  BOOST_TEST(contains(*text, "m2"));
  BOOST_TEST(contains(*text, " 1\n"));
  const auto unknown = render_cluster(
    R"({"ok":true,"node":"a","group":"volley","partitions":[],"members_error":"Broker: timed out"})");
  BOOST_REQUIRE(unknown.has_value());
  BOOST_TEST(contains(*unknown, "partitions -\n"));
  BOOST_TEST(contains(*unknown, "the brokers did not say (Broker: timed out)"));
}

BOOST_AUTO_TEST_CASE(subscribers_show_ages_and_queues) {
  const auto text = render_subscribers_table(
    R"({"ok":true,"subscribers":[
        {"subscriber":"billing","status":"healthy","enabled":true,"breaker":"closed",
         "consecutive_failures":0,"in_flight":2,"queued":5,"waiting_retry":1,
         "ready_by_priority":[3,0,1,0],"backlog_on_disk":true,
         "last_success":"2026-11-23T13:39:58.000Z","last_failure":"2026-11-23T11:10:00.000Z",
         "last_error":"HTTP 503"},
        {"subscriber":"crm","status":"unhealthy","enabled":false,"breaker":"open",
         "consecutive_failures":12,"in_flight":0,"queued":0,"waiting_retry":0,
         "ready_by_priority":[0,0,0,0],"backlog_on_disk":false,
         "last_success":"","last_failure":"2026-11-23T13:20:00.123Z",
         "last_error":"Failed to connect to crm.example.com port 443 after 3001 ms: Connection timed out"}]})",
    now_ms);
  BOOST_REQUIRE(text.has_value());
  const auto lines = lines_of(*text);
  BOOST_REQUIRE_EQUAL(lines.size(), 5u);
  BOOST_TEST(lines[0] == "SUBSCRIBER  STATUS     ENABLED  BREAKER  FAILS  IN-FLIGHT  QUEUED  RETRY  "
                         "READY P0/1/2/3  LAST SUCCESS  LAST FAILURE  LAST ERROR");
  BOOST_TEST(lines[1] == "billing     healthy    yes      closed       0          2      5+      1  "
                         "       3/0/1/0  2s ago        2h ago        HTTP 503");
  BOOST_TEST(lines[2] == "crm         unhealthy  no       open        12          0       0      0  "
                         "       0/0/0/0  never         20m ago       "
                         "Failed to connect to crm.example.com port 443...");
  BOOST_TEST(render_subscribers_table(R"({"ok":true,"subscribers":[]})", now_ms).value() ==
             "(no subscribers configured)\n");
}

BOOST_AUTO_TEST_CASE(failures_are_newest_first) {
  const auto text = render_failures_table(
    R"({"ok":true,"failures":[
        {"at":"2026-11-23T13:39:00.500Z","subscriber":"crm","event_id":"ord_2","type":"order.created",
         "attempt":3,"status":0,"error":"timed out after 10000 ms"},
        {"at":"2026-11-23T13:39:01.000Z","subscriber":"billing","event_id":"ord_1",
         "type":"order.created","attempt":1,"status":503,"error":"HTTP 503"}]})");
  BOOST_REQUIRE(text.has_value());
  BOOST_TEST(*text ==
             "AT                        SUBSCRIBER  EVENT  TYPE           ATTEMPT  STATUS  ERROR\n"
             "2026-11-23T13:39:01.000Z  billing     ord_1  order.created        1     503  HTTP 503\n"
             "2026-11-23T13:39:00.500Z  crm         ord_2  order.created        3       -  "
             "timed out after 10000 ms\n");
  // The reason is the last column and never cut: it says what to change.
  const std::string refused =
    "refused to connect to 127.0.0.1: private or loopback address (set allow_private_networks to allow)";
  const auto whole = render_failures_table(
    R"({"ok":true,"failures":[{"at":"2026-11-23T13:39:02.000Z","subscriber":"local","event_id":"e",)"
    R"("type":"t","attempt":1,"status":0,"error":")" +
    refused + R"("}]})");
  BOOST_REQUIRE(whole.has_value());
  BOOST_TEST(whole->find(refused + "\n") != std::string::npos, *whole);
  BOOST_TEST(render_failures_table(R"({"ok":true,"failures":[]})").value() ==
             "(no failed attempts since the daemon started)\n");
}

BOOST_AUTO_TEST_CASE(queue_splits_priorities) {
  const auto text = render_queue_table(
    R"({"ok":true,"pending":9,"dlq":2,"subscribers":[
        {"subscriber":"billing","configured":true,"pending":4,"by_priority":[1,0,0,3]},
        {"subscriber":"old","configured":false,"pending":5,"by_priority":[5,0,0,0]}]})");
  BOOST_REQUIRE(text.has_value());
  BOOST_TEST(*text == "9 deliveries pending on disk, 2 in the dead-letter queue\n"
                      "\n"
                      "SUBSCRIBER  CONFIGURED  PENDING  P0  P1  P2  P3\n"
                      "billing     yes               4   1   0   0   3\n"
                      "old         no                5   5   0   0   0\n"
                      "P0..P3: pending by priority; CONFIGURED no: left on disk by a removed "
                      "subscriber\n");
}

BOOST_AUTO_TEST_CASE(test_enable_and_reload_answers) {
  BOOST_TEST(render_test_table(R"({"ok":true,"subscriber":"billing","url":"https://x.test/h",
                                   "status":200,"outcome":"delivered","latency_ms":12.5})")
               .value() == "SUBSCRIBER  URL               STATUS  OUTCOME    LATENCY\n"
                           "billing     https://x.test/h     200  delivered     12ms\n");
  BOOST_TEST(render_enabled_table(R"({"ok":true,"subscriber":"crm","enabled":false})").value() ==
             "SUBSCRIBER  ENABLED\ncrm         no\n");
  BOOST_TEST(render_reload_table(
               R"({"ok":true,"added":["new"],"removed":["gone"],"updated":["billing"],"unchanged":["crm"]})")
               .value() == "SUBSCRIBER  CHANGE\nnew         added\ngone        removed\n"
                           "billing     updated\ncrm         unchanged\n");
  BOOST_TEST(!render_reload_table(R"({"ok":true,"added":[]})").has_value());
  BOOST_TEST(!render_test_table(R"({"ok":true})").has_value());
}

BOOST_AUTO_TEST_CASE(dlq_list_cuts_long_fields_and_points_to_the_next_page) {
  const auto text = render_dlq_table(
    R"({"ok":true,"entries":[
        {"key":"billing/42","subscriber":"billing","event_id":"evt_0123456789abcdef0123456789abcdef",
         "type":"order.created","attempts":8,"last_status":503,
         "last_error":"HTTP 503: upstream maintenance window, retry after the deploy finishes",
         "created":"2026-11-23T12:00:00.000Z","failed":"2026-11-23T13:00:00.000Z","body":"{}"}],
       "next":"billing/42"})");
  BOOST_REQUIRE(text.has_value());
  BOOST_TEST(*text ==
             "KEY         EVENT                             TYPE           ATTEMPTS  LAST STATUS  "
             "FAILED AT                 LAST ERROR\n"
             "billing/42  evt_0123456789abcdef012345678...  order.created         8          503  "
             "2026-11-23T13:00:00.000Z  HTTP 503: upstream maintenance window, retry after the deploy "
             "finishes\n"
             "more entries: add --after billing/42 for the next page\n");
  BOOST_TEST(render_dlq_table(R"({"ok":true,"entries":[],"next":null})").value() ==
             "(no dead-lettered deliveries)\n");
  BOOST_TEST(render_dlq_count(R"({"ok":true,"count":1})", "requeued").value() == "requeued 1 entry\n");
  BOOST_TEST(render_dlq_count(R"({"ok":true,"count":3})", "deleted").value() == "deleted 3 entries\n");
  BOOST_TEST(!render_dlq_count(R"({"ok":true})", "deleted").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
