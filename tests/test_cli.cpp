// The `volley` CLI: its tables (canned daemon replies, the shapes volleyd
// answers with, rendered by the same functions the commands call), its
// commands' options and help, and the real binary against a real volleyd
// and a real receiver.

#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/reply_cells.hpp"
#include "cli/reply_tables.hpp"
#include "cli/stats_tables.hpp"
#include "cli/text_table.hpp"
#include "signing/signature.hpp"
#include "tests/support/control_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/event_publisher.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/scripted_receiver.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <ctime>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace volley::cli;
using namespace std::chrono_literals;

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

BOOST_AUTO_TEST_SUITE(commands)

// The entry of `--name` in a usage text: its line and the more indented
// lines that continue it; "" when no line starts with it.
std::string option_entry(const std::string& usage, const std::string& name) {
  const auto lines = lines_of(usage);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto start = lines[i].find_first_not_of(' ');
    if (start == std::string::npos || lines[i].compare(start, name.size() + 2, "--" + name) != 0)
      continue;
    const size_t after = start + name.size() + 2;
    if (after < lines[i].size() && lines[i][after] != ' ')
      continue; // --host is not --hours
    std::string entry = lines[i];
    for (size_t j = i + 1; j < lines.size(); ++j) {
      const auto indent = lines[j].find_first_not_of(' ');
      if (indent == std::string::npos || indent <= start || lines[j].compare(indent, 2, "--") == 0)
        break;
      entry += "\n" + lines[j];
    }
    return entry;
  }
  return "";
}

BOOST_AUTO_TEST_CASE(each_option_of_each_command_is_in_its_help_with_its_default) {
  BOOST_REQUIRE_GE(all_commands().size(), 16u);
  for (const command* entry : all_commands()) {
    BOOST_TEST_CONTEXT("volley " << entry->name) {
      for (const auto& spec : entry->options) {
        const std::string text = option_entry(entry->usage, spec.name);
        BOOST_TEST(!text.empty(), "--" << spec.name << " is not listed");
        // A flag is off unless given; an option with a value says its default
        // or that it is required.
        if (spec.takes_value)
          BOOST_TEST(
            (text.find("default") != std::string::npos || text.find("required") != std::string::npos),
            "--" << spec.name << " names no default: " << text);
      }
    }
  }
  // The actions' options are there too.
  std::vector<std::string> dlq;
  for (const auto& spec : find_command("dlq")->options)
    dlq.push_back(spec.name);
  for (const char* name : {"subscriber", "key", "limit", "after", "host", "port", "timeout", "json"})
    BOOST_TEST((std::find(dlq.begin(), dlq.end(), name) != dlq.end()), name);
  BOOST_TEST(option_entry(find_command("verify")->usage, "tolerance").find("(default 300)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(global_options_before_the_command_go_after_it) {
  const auto globals = std::vector<option_spec>{{"host"}, {"port"}, {"timeout"}, {"json", false}};
  auto call = split_command_call({"--port", "17400", "--json", "dlq", "list", "--limit", "5"}, globals);
  BOOST_TEST(call.command == "dlq");
  BOOST_TEST(call.args == (std::vector<std::string>{"list", "--limit", "5", "--port", "17400", "--json"}));
  BOOST_TEST(call.leading_options == (std::vector<std::string>{"port", "json"}));
  call = split_command_call({"--port=17400", "subscribers"}, globals);
  BOOST_TEST(call.command == "subscribers");
  BOOST_TEST(call.args == (std::vector<std::string>{"--port=17400"}));
  call = split_command_call({"subscribers", "--port", "17400"}, globals);
  BOOST_TEST(call.args == (std::vector<std::string>{"--port", "17400"}));
  BOOST_TEST(call.leading_options.empty());
  BOOST_TEST(split_command_call({"--port", "1", "--help"}, globals).command == "--help");
  BOOST_TEST(split_command_call({"--json"}, globals).command == "");
  BOOST_CHECK_THROW(split_command_call({"--limit", "5", "dlq"}, globals), usage_error);
  BOOST_CHECK_THROW(split_command_call({"--port"}, globals), usage_error);
}

BOOST_AUTO_TEST_SUITE_END()

// The real `volley` binary; stdout and stderr together.
namespace {

struct cli_run {
  int status = -1;
  std::string output;
};

cli_run volley_cli(const std::string& arguments) {
  cli_run run;
  run.status = volley::test::run_command(std::string{VOLLEY_CLI_PATH} + " " + arguments, run.output);
  return run;
}

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

// The value of "Name: value" in `volley sign`'s output.
std::string header_of(const std::string& output, const std::string& name) {
  const auto at = output.find(name + ": ");
  BOOST_REQUIRE(at != std::string::npos);
  const auto start = at + name.size() + 2;
  return output.substr(start, output.find('\n', start) - start);
}

} // namespace

BOOST_AUTO_TEST_SUITE(binary)

BOOST_AUTO_TEST_CASE(help_of_each_command_is_its_usage) {
  for (const command* entry : all_commands()) {
    BOOST_TEST_CONTEXT("volley " << entry->name) {
      const auto asked = volley_cli(std::string{entry->name} + " --help");
      BOOST_TEST(asked.status == 0);
      BOOST_TEST(asked.output == entry->usage);
      const auto help = volley_cli(std::string{"help "} + entry->name);
      BOOST_TEST(help.status == 0);
      BOOST_TEST(help.output == entry->usage);
    }
  }
  BOOST_TEST(volley_cli("help nosuch").status == 2);
  BOOST_TEST(volley_cli("--version").output.rfind("volley ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(secret_new_prints_a_secret_that_config_sign_and_verify_accept) {
  const auto first = volley_cli("secret new");
  const auto second = volley_cli("secret new");
  BOOST_TEST_REQUIRE(first.status == 0, first.output);
  // 32 bytes: 44 characters of base64 with one "=".
  BOOST_TEST(std::regex_match(first.output, std::regex("whsec_[A-Za-z0-9+/]{43}=\n")), first.output);
  BOOST_TEST(first.output != second.output);
  BOOST_TEST(volley_cli("secret").status == 2);
  BOOST_TEST(volley_cli("secret new extra").status == 2);
  const std::string secret = first.output.substr(0, first.output.size() - 1);

  volley::test::temp_dir dir;
  volley::test::write_file(
    dir.file("volley.json"),
    R"({"storage": {"path": ")" + dir.file("data") +
      R"("}, "subscribers": [{"name": "billing", "url": "https://billing.example.com/hooks",
                                 "secret": ")" +
      secret + R"("}]})");
  std::string check;
  BOOST_TEST(volley::test::run_command(
               std::string{VOLLEYD_PATH} + " --check-config " + dir.file("volley.json"), check) == 0,
             check);

  volley::test::write_file(dir.file("body"), R"({"order":42})");
  const auto ts = std::to_string(now_s());
  const auto signed_headers = volley_cli("sign --secret " + secret + " --id evt_1 --timestamp " + ts +
                                         " --body-file " + dir.file("body"));
  BOOST_TEST_REQUIRE(signed_headers.status == 0, signed_headers.output);
  const auto verified =
    volley_cli("verify --secret " + secret + " --id evt_1 --timestamp " + ts + " --signature '" +
               header_of(signed_headers.output, "webhook-signature") + "' --body-file " + dir.file("body"));
  BOOST_TEST(verified.status == 0, verified.output);
  BOOST_TEST(verified.output == "valid\n");
}

BOOST_AUTO_TEST_CASE(verify_refuses_a_timestamp_outside_the_tolerance) {
  volley::test::temp_dir dir;
  volley::test::write_file(dir.file("body"), "{}");
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  // A correct signature over the given timestamp: only its age can fail.
  auto verify = [&](int64_t timestamp, const std::string& extra) {
    const auto ts = std::to_string(timestamp);
    const auto sign = volley_cli("sign --secret " + secret + " --id evt_1 --timestamp " + ts +
                                 " --body-file " + dir.file("body"));
    BOOST_REQUIRE_EQUAL(sign.status, 0);
    return volley_cli("verify --secret " + secret + " --id evt_1 --timestamp " + ts + " --signature '" +
                      header_of(sign.output, "webhook-signature") + "' --body-file " + dir.file("body") +
                      " " + extra);
  };
  const auto old = verify(1000, "");
  BOOST_TEST(old.status == 1);
  BOOST_TEST(old.output.find("invalid\n") != std::string::npos, old.output);
  BOOST_TEST(old.output.find("webhook-timestamp 1000 is ") != std::string::npos, old.output);
  BOOST_TEST(old.output.find("s old, more than the tolerance of 300 s") != std::string::npos, old.output);

  const auto ahead = verify(now_s() + 3600, "");
  BOOST_TEST(ahead.status == 1);
  BOOST_TEST(ahead.output.find("s in the future, more than the tolerance of 300 s") != std::string::npos,
             ahead.output);

  BOOST_TEST(verify(now_s(), "").status == 0);
  const auto widened = verify(now_s() - 3600, "--tolerance 7200");
  BOOST_TEST(widened.status == 0, widened.output);
  BOOST_TEST(verify(now_s() - 3600, "--tolerance 600").status == 1);
  BOOST_TEST(verify(now_s(), "--tolerance -1").status == 2);
}

BOOST_AUTO_TEST_CASE(receive_answers_a_delivery_outside_the_tolerance_400_and_says_why) {
  volley::test::temp_dir dir;
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  volley::test::daemon_process receive({VOLLEY_CLI_PATH, "receive", "--port", "0", "--secret", secret},
                                       dir.file("receive.log"));
  BOOST_TEST_REQUIRE(receive.wait_ready(), receive.log());
  const auto key = volley::signing_key_from_secret(secret).value();
  auto deliver = [&](int64_t timestamp) {
    const std::string body = R"({"id":"evt_1"})";
    const auto ts = std::to_string(timestamp);
    volley::test::http_client client(receive.port());
    return client.post(
      "/hooks", body,
      {{"Content-Type", "application/json"},
       {"webhook-id", "evt_1"},
       {"webhook-timestamp", ts},
       {"webhook-signature", volley::standard_signature_header({key}, "evt_1", timestamp, body)}});
  };
  const auto fresh = deliver(now_s());
  BOOST_TEST(fresh.status == 200);
  const auto stale = deliver(now_s() - 600);
  BOOST_TEST(stale.status == 400);
  BOOST_TEST(stale.body.find("s old, more than the tolerance of 300 s") != std::string::npos, stale.body);
  const auto early = deliver(now_s() + 600);
  BOOST_TEST(early.status == 400);
  BOOST_TEST(early.body.find("s in the future") != std::string::npos, early.body);
  BOOST_TEST(receive.stop() == 0);
  const auto log = receive.log();
  BOOST_TEST(log.find("signature=valid refused=\"webhook-timestamp ") != std::string::npos, log);
  BOOST_TEST(log.find("received=3 invalid_signatures=0 refused_timestamps=2") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(global_options_work_before_and_after_the_command) {
  volley::test::running_node node;
  node.spec.subscribers = {{"billing", "http://127.0.0.1:9/hooks", {}, "", ""}};
  node.start();
  const std::string port = std::to_string(node.port());
  for (const std::string& line :
       {"--port " + port + " subscribers", "subscribers --port " + port,
        "--host 127.0.0.1 --port=" + port + " --json health", "--json dlq list --port " + port}) {
    const auto run = volley_cli(line);
    BOOST_TEST(run.status == 0, line << ": " << run.output);
  }
  BOOST_TEST(volley_cli("--port " + port + " subscribers").output.find("billing") != std::string::npos);
  // receive's --port is the port it listens on, not the daemon's.
  const auto receive = volley_cli("--port " + port + " receive --port 0");
  BOOST_TEST(receive.status == 2);
  BOOST_TEST(receive.output.find("'--port' before the command is for commands that ask the daemon") !=
               std::string::npos,
             receive.output);
  const auto unknown = volley_cli("--limit 5 subscribers");
  BOOST_TEST(unknown.status == 2);
  BOOST_TEST(unknown.output.find("unknown option '--limit' before the command") != std::string::npos,
             unknown.output);
  BOOST_TEST(node.stop() == 0);
}

BOOST_AUTO_TEST_CASE(dlq_delete_takes_a_subscriber_and_an_unknown_key_is_an_error) {
  volley::test::scripted_receiver refusing{[](const std::string&, uint32_t) {
    volley::receiver_reply reply;
    reply.status = 404; // not retried: straight to the dead-letter queue
    return reply;
  }};
  volley::test::running_node node;
  node.spec.subscribers = {{"refusing", refusing.url(), {}, "", ""}};
  node.start();
  volley::test::publish_events(node.port(), {"e1", "e2", "e3"}, "order.created");
  volley::test::control_client control{node.port()};
  std::vector<volley::test::dlq_entry> entries;
  BOOST_REQUIRE(volley::test::wait_until([&] { return (entries = control.dlq_all()).size() == 3; }, 30s));
  const std::string port = " --port " + std::to_string(node.port());

  for (const char* action : {"retry", "delete"}) {
    const auto unknown = volley_cli(std::string{"dlq "} + action + " --key refusing/999999" + port);
    BOOST_TEST(unknown.status == 1, unknown.output);
    BOOST_TEST(unknown.output.find("no dead-letter entry refusing/999999") != std::string::npos,
               unknown.output);
  }
  const auto one = volley_cli("dlq delete --key " + entries[0].key + port);
  BOOST_TEST(one.status == 0, one.output);
  BOOST_TEST(one.output == "deleted 1 entry\n");
  const auto again = volley_cli("dlq delete --key " + entries[0].key + port);
  BOOST_TEST(again.status == 1, again.output);

  const auto all = volley_cli("dlq delete --subscriber refusing" + port);
  BOOST_TEST(all.status == 0, all.output);
  BOOST_TEST(all.output == "deleted 2 entries\n");
  BOOST_TEST(control.dlq_all().empty());
  BOOST_TEST(volley_cli("dlq delete" + port).status == 2);
  BOOST_TEST(volley_cli("dlq delete --key a/1 --subscriber refusing" + port).status == 2);
  BOOST_TEST(node.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
