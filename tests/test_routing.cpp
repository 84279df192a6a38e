#define BOOST_TEST_MODULE routing
#include <boost/test/unit_test.hpp>

#include "routing/filter_index.hpp"
#include "routing/pattern.hpp"
#include "routing/routing_table.hpp"

#include <string>
#include <vector>

using namespace volley;

namespace {

std::vector<size_t> match(const filter_index& index, std::string_view type) {
  std::vector<size_t> out;
  index.match(type, out);
  return out;
}

subscriber_config subscriber(std::string name, std::vector<std::string> events) {
  subscriber_config s;
  s.name = std::move(name);
  s.url = "http://127.0.0.1:9/hooks";
  s.events = std::move(events);
  return s;
}

std::vector<std::string> names_of(const std::vector<delivery_target>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets)
    out.push_back(t.subscriber);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pattern)

BOOST_AUTO_TEST_CASE(exact_pattern_matches_only_the_same_type) {
  BOOST_TEST(pattern_matches("order.created", "order.created"));
  BOOST_TEST(!pattern_matches("order.created", "order.updated"));
  BOOST_TEST(!pattern_matches("order.created", "Order.created")); // case-sensitive
}

BOOST_AUTO_TEST_CASE(pattern_without_star_does_not_match_a_longer_or_shorter_type) {
  BOOST_TEST(!pattern_matches("order", "order.created"));
  BOOST_TEST(!pattern_matches("order.created", "order"));
  BOOST_TEST(!pattern_matches("order.created", "order.created.v2"));
  BOOST_TEST(!pattern_matches("order.created.v2", "order.created"));
}

BOOST_AUTO_TEST_CASE(trailing_star_matches_any_suffix_including_none) {
  BOOST_TEST(pattern_matches("order.*", "order.created"));
  BOOST_TEST(pattern_matches("order.*", "order.item.added"));
  BOOST_TEST(pattern_matches("order.*", "order."));
  BOOST_TEST(!pattern_matches("order.*", "order"));
  BOOST_TEST(!pattern_matches("order.*", "orders.created"));
  BOOST_TEST(!pattern_matches("order.*", "invoice.order.created"));
}

BOOST_AUTO_TEST_CASE(leading_star_matches_any_prefix_including_none) {
  BOOST_TEST(pattern_matches("*.failed", "payment.failed"));
  BOOST_TEST(pattern_matches("*.failed", "a.b.failed"));
  BOOST_TEST(pattern_matches("*.failed", ".failed"));
  BOOST_TEST(!pattern_matches("*.failed", "failed"));
  BOOST_TEST(!pattern_matches("*.failed", "payment.failed.retry"));
  BOOST_TEST(!pattern_matches("*.failed", "payment.failedx"));
}

BOOST_AUTO_TEST_CASE(lone_star_matches_everything) {
  BOOST_TEST(pattern_matches("*", "order.created"));
  BOOST_TEST(pattern_matches("*", "x"));
  BOOST_TEST(pattern_matches("*", ""));
  BOOST_TEST(pattern_matches("**", "anything.at.all"));
}

BOOST_AUTO_TEST_CASE(several_stars) {
  BOOST_TEST(pattern_matches("a*b*c", "abc"));
  BOOST_TEST(pattern_matches("a*b*c", "aXXbYYc"));
  BOOST_TEST(pattern_matches("a*b*c", "abbbcbc"));
  BOOST_TEST(!pattern_matches("a*b*c", "ab"));
  BOOST_TEST(!pattern_matches("a*b*c", "acb"));
  BOOST_TEST(!pattern_matches("a*b*c", "abcx"));
  BOOST_TEST(!pattern_matches("a*b*c", "xabc"));
}

BOOST_AUTO_TEST_CASE(empty_type_and_empty_pattern) {
  BOOST_TEST(pattern_matches("", ""));
  BOOST_TEST(!pattern_matches("", "a"));
  BOOST_TEST(!pattern_matches("a", ""));
  BOOST_TEST(!pattern_matches("a*", ""));
  BOOST_TEST(!pattern_matches("*a", ""));
}

BOOST_AUTO_TEST_CASE(backtracking_after_a_false_start) {
  // The first candidate for the text after `*` is wrong; the matcher must
  // retry from a later position.
  BOOST_TEST(pattern_matches("*ab", "aab"));
  BOOST_TEST(pattern_matches("a*ab", "aaab"));
  BOOST_TEST(pattern_matches("*.created", "order.item.created"));
  BOOST_TEST(pattern_matches("*abc", "ababc"));
  BOOST_TEST(pattern_matches("a*b.c", "ab.xb.c"));
  BOOST_TEST(!pattern_matches("*ab", "aba"));
  BOOST_TEST(!pattern_matches("a*ab", "aab.b"));
}

BOOST_AUTO_TEST_CASE(pathological_input_stays_correct) {
  std::string type(2000, 'a');
  BOOST_TEST(!pattern_matches("*a*a*a*a*a*b", type));
  BOOST_TEST(pattern_matches("*a*a*a*a*a*a", type));
  type += 'b';
  BOOST_TEST(pattern_matches("*a*a*a*a*a*b", type));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(filter_index_suite)

BOOST_AUTO_TEST_CASE(target_without_patterns_matches_every_event) {
  filter_index index;
  index.add(0, {});
  BOOST_TEST(match(index, "order.created") == std::vector<size_t>{0});
  BOOST_TEST(match(index, "x") == std::vector<size_t>{0});
  BOOST_TEST(match(index, "") == std::vector<size_t>{0});
  BOOST_TEST(index.size() == 1u);
}

BOOST_AUTO_TEST_CASE(exact_patterns) {
  filter_index index;
  index.add(0, {"order.created", "invoice.paid"});
  index.add(1, {"invoice.paid"});
  index.add(2, {"order.updated"});
  BOOST_TEST(match(index, "order.created") == std::vector<size_t>{0});
  BOOST_TEST(match(index, "invoice.paid") == (std::vector<size_t>{0, 1}));
  BOOST_TEST(match(index, "order.updated") == std::vector<size_t>{2});
  BOOST_TEST(match(index, "order").empty());
  BOOST_TEST(match(index, "order.created.x").empty());
  BOOST_TEST(index.size() == 3u);
}

BOOST_AUTO_TEST_CASE(wildcards_with_prefixes_of_several_lengths) {
  filter_index index;
  index.add(0, {"*"});            // prefix length 0
  index.add(1, {"o*"});           // 1
  index.add(2, {"order.*"});      // 6
  index.add(3, {"order.item.*"}); // 11
  index.add(4, {"*.failed"});     // 0, suffix
  index.add(5, {"invoice.*"});    // 8
  index.add(6, {"order.*.v2"});   // 6, star in the middle
  BOOST_TEST(match(index, "order.item.added") == (std::vector<size_t>{0, 1, 2, 3}));
  BOOST_TEST(match(index, "order.created") == (std::vector<size_t>{0, 1, 2}));
  BOOST_TEST(match(index, "order.created.v2") == (std::vector<size_t>{0, 1, 2, 6}));
  BOOST_TEST(match(index, "order.failed") == (std::vector<size_t>{0, 1, 2, 4}));
  BOOST_TEST(match(index, "invoice.failed") == (std::vector<size_t>{0, 4, 5}));
  BOOST_TEST(match(index, "o") == (std::vector<size_t>{0, 1}));
  BOOST_TEST(match(index, "x") == std::vector<size_t>{0});
  BOOST_TEST(match(index, "") == std::vector<size_t>{0});
}

BOOST_AUTO_TEST_CASE(type_shorter_than_some_prefixes) {
  filter_index index;
  index.add(0, {"order.item.*"});
  index.add(1, {"or*"});
  BOOST_TEST(match(index, "order") == std::vector<size_t>{1});
  BOOST_TEST(match(index, "or") == std::vector<size_t>{1});
  BOOST_TEST(match(index, "o").empty());
}

BOOST_AUTO_TEST_CASE(target_matching_through_several_patterns_appears_once) {
  filter_index index;
  index.add(0, {"order.*", "order.created", "*.created", "*"});
  index.add(1, {"order.created", "order.*"});
  BOOST_TEST(match(index, "order.created") == (std::vector<size_t>{0, 1}));
  BOOST_TEST(match(index, "order.x") == (std::vector<size_t>{0, 1}));
  BOOST_TEST(match(index, "invoice.created") == std::vector<size_t>{0});
}

BOOST_AUTO_TEST_CASE(output_is_ascending_whatever_the_order_of_adding) {
  filter_index index;
  index.add(7, {"*"});
  index.add(3, {"order.created"});
  index.add(5, {});
  index.add(1, {"order.*"});
  index.add(9, {"*.created"});
  index.add(0, {"order.created"});
  BOOST_TEST(match(index, "order.created") == (std::vector<size_t>{0, 1, 3, 5, 7, 9}));
  BOOST_TEST(index.size() == 10u);
}

BOOST_AUTO_TEST_CASE(match_appends_and_leaves_earlier_entries_alone) {
  filter_index index;
  index.add(0, {"a"});
  index.add(2, {"a*"});
  std::vector<size_t> out{42, 1};
  index.match("a", out);
  BOOST_TEST(out == (std::vector<size_t>{42, 1, 0, 2}));
}

BOOST_AUTO_TEST_CASE(no_match) {
  filter_index index;
  index.add(0, {"order.*"});
  index.add(1, {"invoice.paid"});
  index.add(2, {"*.failed"});
  BOOST_TEST(match(index, "user.signed_up").empty());
  BOOST_TEST(match(index, "invoice.paid.late").empty());
  BOOST_TEST(match(index, "failed").empty());
  filter_index empty;
  BOOST_TEST(match(empty, "anything").empty());
  BOOST_TEST(empty.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(routing_table_suite)

BOOST_AUTO_TEST_CASE(events_own_priority_wins) {
  routing_table table{{subscriber("a", {})}, {{"order.*", 3}}};
  BOOST_TEST(table.priority_for("order.created", 1) == 1);
  BOOST_TEST(table.priority_for("order.created", 0) == 0);
  BOOST_TEST(table.priority_for("other", 2) == 2);
}

BOOST_AUTO_TEST_CASE(first_matching_rule_else_zero) {
  routing_table table{{subscriber("a", {})},
                      {{"payment.failed", 3}, {"*.failed", 2}, {"order.*", 1}, {"*", 0}}};
  BOOST_TEST(table.priority_for("payment.failed", no_priority) == 3);
  BOOST_TEST(table.priority_for("order.failed", no_priority) == 2); // *.failed comes before order.*
  BOOST_TEST(table.priority_for("order.created", no_priority) == 1);
  BOOST_TEST(table.priority_for("user.created", no_priority) == 0);

  routing_table later_rule_more_specific{{subscriber("a", {})}, {{"order.*", 1}, {"order.created", 3}}};
  BOOST_TEST(later_rule_more_specific.priority_for("order.created", no_priority) == 1);

  routing_table some_rules{{subscriber("a", {})}, {{"order.*", 2}}};
  BOOST_TEST(some_rules.priority_for("invoice.paid", no_priority) == 0);

  routing_table no_rules{{subscriber("a", {})}, {}};
  BOOST_TEST(no_rules.priority_for("order.created", no_priority) == 0);
}

BOOST_AUTO_TEST_CASE(targets_follow_each_subscribers_filter) {
  routing_table table{{subscriber("billing", {"order.*", "invoice.paid"}), subscriber("audit", {}),
                       subscriber("alerts", {"*.failed"}), subscriber("orders_exact", {"order.created"})},
                      {}};
  std::vector<delivery_target> out;
  table.targets_for("order.created", 2, out);
  BOOST_TEST(names_of(out) == (std::vector<std::string>{"billing", "audit", "orders_exact"}));
  for (const auto& t : out)
    BOOST_TEST(t.priority == 2);

  out.clear();
  table.targets_for("order.failed", 0, out);
  BOOST_TEST(names_of(out) == (std::vector<std::string>{"billing", "audit", "alerts"}));

  out.clear();
  table.targets_for("invoice.paid", 1, out);
  BOOST_TEST(names_of(out) == (std::vector<std::string>{"billing", "audit"}));

  out.clear();
  table.targets_for("user.created", 0, out);
  BOOST_TEST(names_of(out) == std::vector<std::string>{"audit"});
}

BOOST_AUTO_TEST_CASE(one_target_per_subscriber_even_through_several_patterns) {
  routing_table table{{subscriber("billing", {"order.*", "order.created", "*"})}, {}};
  std::vector<delivery_target> out;
  table.targets_for("order.created", 0, out);
  BOOST_TEST(names_of(out) == std::vector<std::string>{"billing"});
}

BOOST_AUTO_TEST_CASE(no_subscriber_matches) {
  routing_table table{{subscriber("billing", {"order.*"})}, {}};
  std::vector<delivery_target> out;
  table.targets_for("invoice.paid", 0, out);
  BOOST_TEST(out.empty());
  routing_table empty;
  empty.targets_for("order.created", 0, out);
  BOOST_TEST(out.empty());
  BOOST_TEST(empty.priority_for("order.created", no_priority) == 0);
}

BOOST_AUTO_TEST_CASE(route_marks_client_ids_and_leaves_repeats_to_persistence) {
  routing_table table{{subscriber("billing", {"order.*"})}, {}};
  std::vector<routed_event> routed;
  for (const char* id : {"ord_1", "", "ord_1"}) {
    parsed_event ev;
    ev.id = id;
    ev.type = "order.created";
    routed.push_back(table.route(std::move(ev), routed.size(), 1700000000000));
  }
  BOOST_TEST(routed[0].client_id);
  BOOST_TEST(routed[0].payload->id == "ord_1");
  BOOST_TEST(!routed[1].client_id); // generated: unique, never deduplicated
  BOOST_TEST(routed[1].payload->id.rfind("evt_", 0) == 0u);
  BOOST_TEST(routed[1].slot == 1u);
  // Whether a repeat is one is decided where commits are known: persistence.
  BOOST_TEST(routed[2].client_id);
  BOOST_TEST(names_of(routed[2].targets) == std::vector<std::string>{"billing"});
  for (const auto& ev : routed)
    BOOST_TEST(ev.payload->body != nullptr);
}

BOOST_AUTO_TEST_CASE(an_event_nobody_wants_gets_no_body) {
  routing_table table{{subscriber("billing", {"order.*"})}, {}};
  parsed_event ev;
  ev.type = "invoice.paid";
  auto routed = table.route(std::move(ev), 0, 1700000000000);
  BOOST_TEST(routed.targets.empty());
  BOOST_TEST(routed.payload->body == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
