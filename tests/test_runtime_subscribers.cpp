// The API's subscribers without a daemon: what each read or change decides
// (answer, what to store, what to do with the actor), against the config
// file's subscribers, and what stored definitions load as.

#define BOOST_TEST_MODULE runtime_subscribers
#include <boost/test/unit_test.hpp>

#include "config/runtime_subscribers.hpp"

#include <string>
#include <vector>

using namespace volley;
using kind = subscriber_answer::kind;
using action = runtime_subscribers::plan::action;

namespace {

constexpr int64_t t0 = 1700000000000;

std::vector<subscriber_config> file_subscribers() {
  subscriber_config billing;
  billing.name = "billing";
  billing.url = "http://billing.example/hook";
  billing.secrets = {"file-secret"};
  return {billing};
}

subscriber_change change(subscriber_change::kind what, std::string name, std::string body = "") {
  return {what, std::move(name), std::move(body)};
}

const std::string rt_body =
  R"({"name": "rt", "url": "http://rt.example/hook", "events": ["a.*"], "secret": "api-secret"})";

// Decides and, when there is something to store, applies as the node would
// once it is on disk.
runtime_subscribers::plan carry_out(runtime_subscribers& r, const subscriber_change& c, int64_t now_ms = t0) {
  auto p = r.decide(c, file_subscribers(), delivery_defaults{}, now_ms);
  r.apply(p);
  return p;
}

} // namespace

BOOST_AUTO_TEST_CASE(create_stores_starts_and_answers_without_secrets) {
  runtime_subscribers r;
  auto p = carry_out(r, change(subscriber_change::kind::create, "", rt_body));
  BOOST_TEST((p.answer.what == kind::created));
  BOOST_REQUIRE(p.store.has_value());
  BOOST_TEST(p.store->name == "rt");
  BOOST_TEST(p.store->json == rt_body); // secrets kept on disk, for signing
  BOOST_TEST(p.store->updated_ms == t0);
  BOOST_TEST((p.act == action::start));
  BOOST_TEST(p.config.secrets == std::vector<std::string>{"api-secret"});
  BOOST_TEST(p.answer.body.find("api-secret") == std::string::npos, p.answer.body);
  BOOST_TEST(p.answer.body.find("\"secret_count\":1") != std::string::npos, p.answer.body);
  BOOST_TEST(p.answer.body.find("\"source\":\"api\"") != std::string::npos, p.answer.body);

  // A second create of the name is a conflict and stores nothing.
  auto again = carry_out(r, change(subscriber_change::kind::create, "", rt_body));
  BOOST_TEST((again.answer.what == kind::conflict));
  BOOST_TEST(!again.store.has_value());
  BOOST_TEST(again.answer.body.find("PUT /v1/subscribers/rt") != std::string::npos, again.answer.body);
}

BOOST_AUTO_TEST_CASE(the_files_subscribers_are_read_only) {
  runtime_subscribers r;
  for (auto what : {subscriber_change::kind::replace, subscriber_change::kind::remove}) {
    auto p = carry_out(r, change(what, "billing", R"({"url": "http://x.example/"})"));
    BOOST_TEST((p.answer.what == kind::conflict));
    BOOST_TEST(!p.store.has_value());
    BOOST_TEST(p.answer.body.find("config file") != std::string::npos, p.answer.body);
  }
  auto create = carry_out(
    r, change(subscriber_change::kind::create, "", R"({"name": "billing", "url": "http://x.example/"})"));
  BOOST_TEST((create.answer.what == kind::conflict));
  auto get = carry_out(r, change(subscriber_change::kind::get, "billing"));
  BOOST_TEST((get.answer.what == kind::ok));
  BOOST_TEST(get.answer.body.find("\"source\":\"config\"") != std::string::npos);
  BOOST_TEST(get.answer.body.find("file-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(put_creates_then_replaces_and_takes_its_name_from_the_path) {
  runtime_subscribers r;
  auto created =
    carry_out(r, change(subscriber_change::kind::replace, "rt", R"({"url": "http://rt.example/one"})"));
  BOOST_TEST((created.answer.what == kind::created));
  BOOST_TEST((created.act == action::start));
  BOOST_TEST(created.config.name == "rt");
  BOOST_TEST(created.store->json == R"({"url":"http://rt.example/one","name":"rt"})");
  auto replaced = carry_out(
    r, change(subscriber_change::kind::replace, "rt", R"({"name": "rt", "url": "http://rt.example/two"})"),
    t0 + 5);
  BOOST_TEST((replaced.answer.what == kind::ok));
  BOOST_TEST((replaced.act == action::reconfigure));
  BOOST_TEST(replaced.config.url == "http://rt.example/two");
  auto renamed = carry_out(
    r, change(subscriber_change::kind::replace, "rt", R"({"name": "other", "url": "http://rt.example/"})"));
  BOOST_TEST((renamed.answer.what == kind::invalid));
  BOOST_TEST(renamed.answer.body.find("as in the path") != std::string::npos, renamed.answer.body);
  auto listed = carry_out(r, change(subscriber_change::kind::list, ""));
  BOOST_TEST(listed.answer.body.find("http://rt.example/two") != std::string::npos, listed.answer.body);
}

BOOST_AUTO_TEST_CASE(invalid_bodies_get_the_files_errors_naming_the_field) {
  runtime_subscribers r;
  auto p = carry_out(r, change(subscriber_change::kind::create, "",
                               R"({"name": "bad name", "url": "ftp://x", "retries": 1})"));
  BOOST_TEST((p.answer.what == kind::invalid));
  BOOST_TEST(!p.store.has_value());
  const auto& body = p.answer.body;
  BOOST_TEST(body.find(R"({"key":"name","message":"must contain only letters)") != std::string::npos, body);
  BOOST_TEST(body.find(R"({"key":"url","message":"must be an absolute http://)") != std::string::npos, body);
  BOOST_TEST(body.find(R"({"key":"retries","message":"unknown key)") != std::string::npos, body);
  BOOST_TEST(body.find(R"("error":"name: must contain)") != std::string::npos, body);
  auto not_json = carry_out(r, change(subscriber_change::kind::create, "", "{\"name\":"));
  BOOST_TEST((not_json.answer.what == kind::invalid));
  BOOST_TEST(not_json.answer.body.find("invalid JSON at line 1, column 9 (offset 8)") != std::string::npos,
             not_json.answer.body);
}

BOOST_AUTO_TEST_CASE(remove_stops_and_stores_a_deletion) {
  runtime_subscribers r;
  carry_out(r, change(subscriber_change::kind::create, "", rt_body));
  auto p = carry_out(r, change(subscriber_change::kind::remove, "rt"));
  BOOST_TEST((p.answer.what == kind::ok));
  BOOST_TEST((p.act == action::stop));
  BOOST_REQUIRE(p.store.has_value());
  BOOST_TEST(p.store->deleted);
  BOOST_TEST(!r.contains("rt"));
  auto gone = carry_out(r, change(subscriber_change::kind::remove, "rt"));
  BOOST_TEST((gone.answer.what == kind::not_found));
  BOOST_TEST((carry_out(r, change(subscriber_change::kind::get, "rt")).answer.what == kind::not_found));
}

BOOST_AUTO_TEST_CASE(stored_definitions_load_validated_and_the_file_hides_its_names) {
  runtime_subscribers r;
  auto problems = r.load({{"rt", rt_body, t0, false},
                          {"billing", R"({"name": "billing", "url": "http://api.example/"})", t0, false},
                          {"broken", R"({"name": "broken", "url": "nope"})", t0, false}},
                         delivery_defaults{});
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0].find("\"broken\" does not run") != std::string::npos, problems[0]);
  BOOST_TEST(problems[0].find("url") != std::string::npos, problems[0]);
  auto running = r.merged(file_subscribers());
  BOOST_REQUIRE_EQUAL(running.size(), 2u);
  BOOST_TEST(running[0].url == "http://billing.example/hook"); // the file's billing
  BOOST_TEST(running[1].name == "rt");
  BOOST_TEST(r.shadowed(file_subscribers()) == std::vector<std::string>{"billing"});
}

BOOST_AUTO_TEST_CASE(new_defaults_apply_unless_they_make_a_definition_invalid) {
  runtime_subscribers r;
  auto loaded = r.load(
    {{"rt", R"({"name": "rt", "url": "http://rt.example/", "breaker": {"cooldown_ms": 100}})", t0, false}},
    delivery_defaults{});
  BOOST_REQUIRE(loaded.empty());
  delivery_defaults more;
  more.max_attempts = 3;
  BOOST_TEST(r.rebase(more).empty());
  BOOST_REQUIRE_EQUAL(r.merged({}).size(), 1u);
  BOOST_TEST(r.merged({})[0].max_attempts == 3u);
  delivery_defaults clashing;
  clashing.breaker.max_cooldown_ms = 50; // below the definition's own cooldown_ms
  auto problems = r.rebase(clashing);
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0].find("keeps its settings") != std::string::npos, problems[0]);
  BOOST_TEST(r.merged({})[0].max_attempts == 3u);
}

BOOST_AUTO_TEST_CASE(live_state_joins_each_subscriber_by_name) {
  const std::string monitor_line =
    R"({"ok":true,"subscribers":[{"subscriber":"rt","enabled":false,"queued":3}]})"
    "\n";
  auto list = with_live_state(R"({"subscribers":[{"name":"rt","url":"u"},{"name":"new"}]})", monitor_line);
  BOOST_TEST(list == R"({"subscribers":[{"name":"rt","url":"u","state":{"enabled":false,"queued":3}},)"
                     R"({"name":"new"}]})");
  auto one = with_live_state(R"({"name":"rt"})", monitor_line);
  BOOST_TEST(one == R"({"name":"rt","state":{"enabled":false,"queued":3}})");
  // A monitor error leaves the answer as it was.
  BOOST_TEST(with_live_state(R"({"name":"rt"})", R"({"ok":false,"error":"x"})") == R"({"name":"rt"})");
}
