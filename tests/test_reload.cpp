// Live reconfiguration of a real volleyd under load: a reload adds, removes
// and changes subscribers without losing a delivery; an invalid file is
// refused and the running config stays; the answer tells changed
// subscribers from unchanged ones.

#define BOOST_TEST_MODULE reload
#include <boost/test/unit_test.hpp>

#include "tests/support/daemon_process.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/occurrences.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <atomic>
#include <csignal>
#include <set>
#include <thread>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

std::string config_json(const std::string& data, const std::string& subscribers) {
  return "{\"ingress\": {\"port\": 0}, \"storage\": {\"path\": \"" + data +
         "\"}, \"monitor\": {\"interval_ms\": 1000}, \"allow_private_networks\": true, "
         "\"subscribers\": [" +
         subscribers + "]}";
}

std::string sub(const std::string& name, const std::string& url, const std::string& events) {
  return "{\"name\": \"" + name + "\", \"url\": \"" + url + "\", \"events\": [" + events +
         "], \"backoff\": {\"base_ms\": 20, \"max_ms\": 200}}";
}

} // namespace

BOOST_AUTO_TEST_CASE(reload_under_load_adds_removes_and_changes_without_loss) {
  recording_receiver keep, removed, changed_before, changed_after, added;
  temp_dir dir;
  auto path = dir.file("volley.json");
  write_file(path, config_json(dir.file("data"), sub("keep", keep.url(), "\"a.*\"") + "," +
                                                   sub("gone", removed.url(), "") + "," +
                                                   sub("moved", changed_before.url(), "")));
  daemon_process volleyd{path, dir.file("volleyd.log")};
  BOOST_REQUIRE_MESSAGE(volleyd.wait_ready(), volleyd.log());

  // Publish 3000 events in batches; reload between two batches.
  line_client client{volleyd.port()};
  std::set<std::string> a_ids, all_ids, after_reload;
  bool reloaded = false;
  for (int batch = 0; batch < 30; ++batch) {
    if (batch == 15) {
      write_file(path, config_json(dir.file("data"), sub("keep", keep.url(), "\"a.*\"") + "," +
                                                       sub("moved", changed_after.url(), "") + "," +
                                                       sub("added", added.url(), "\"b.*\"")));
      client.send_line(R"({"op":"reload"})");
      auto answer = client.read_line();
      BOOST_REQUIRE(answer);
      BOOST_CHECK_MESSAGE(answer->find("\"added\":[\"added\"]") != std::string::npos, *answer);
      BOOST_CHECK_MESSAGE(answer->find("\"removed\":[\"gone\"]") != std::string::npos, *answer);
      reloaded = true;
    }
    std::vector<std::string> lines;
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
      auto id = "x" + std::to_string(batch) + "-" + std::to_string(i);
      auto type = (i % 2 == 0) ? "a.thing" : "b.thing";
      lines.push_back("{\"type\":\"" + std::string{type} + "\",\"id\":\"" + id + "\"}");
      ids.push_back(id);
      all_ids.insert(id);
      if (i % 2 == 0)
        a_ids.insert(id);
      else if (reloaded)
        after_reload.insert(id);
    }
    auto answers = client.exchange(lines);
    BOOST_REQUIRE_EQUAL(answers.size(), lines.size());
    for (auto& a : answers)
      BOOST_REQUIRE_MESSAGE(a.rfind("{\"ok\":true", 0) == 0, a);
  }

  // keep: every a.* event; moved: every event, before or after its new URL;
  // added: every b.* event accepted after the reload.
  BOOST_CHECK(wait_until([&] { return keep.distinct() == a_ids.size(); }, 60s));
  BOOST_CHECK(wait_until(
    [&] {
      auto before = changed_before.per_event(), after = changed_after.per_event();
      std::set<std::string> seen;
      for (auto& [id, n] : before)
        seen.insert(id);
      for (auto& [id, n] : after)
        seen.insert(id);
      return seen == all_ids;
    },
    60s));
  BOOST_CHECK(changed_after.count() > 0);
  BOOST_CHECK(wait_until(
    [&] {
      auto seen = added.per_event();
      return std::all_of(after_reload.begin(), after_reload.end(),
                         [&](const std::string& id) { return seen.count(id) == 1; });
    },
    60s));
  for (auto& [id, n] : added.per_event())
    BOOST_CHECK_MESSAGE(a_ids.count(id) == 0, "added (b.* only) got " << id);
  for (auto& [id, n] : keep.per_event())
    BOOST_CHECK_MESSAGE(a_ids.count(id) == 1, "keep got " << id);

  // An invalid file is refused; the running config keeps delivering.
  write_file(path, "{\"subscribers\": [{\"name\": \"broken\"}]}");
  client.send_line(R"({"op":"reload"})");
  auto refused = client.read_line();
  BOOST_REQUIRE(refused);
  BOOST_CHECK_MESSAGE(refused->find("\"ok\":false") != std::string::npos, *refused);
  BOOST_CHECK_MESSAGE(refused->find("subscribers[0].url") != std::string::npos, *refused);
  auto before = keep.distinct();
  BOOST_REQUIRE_EQUAL(client.exchange({R"({"type":"a.late","id":"late-1"})"}).size(), 1u);
  BOOST_CHECK(wait_until([&] { return keep.distinct() == before + 1; }));

  // SIGHUP reloads too (the file is still invalid: a logged refusal).
  ::kill(volleyd.pid(), SIGHUP);
  BOOST_CHECK(wait_until([&] { return volleyd.log().find("reload refused") != std::string::npos; }));
  BOOST_CHECK(volleyd.running());
  BOOST_CHECK_EQUAL(volleyd.stop(), 0);
}

// A reload answered every kept subscriber as "updated"; and a subscriber
// without a secret was accepted silently. The answer now tells changed from
// unchanged, and the warning comes once at start and once per reload.
BOOST_AUTO_TEST_CASE(reload_tells_updated_from_unchanged_and_warns_of_unsigned_subscribers_once_each) {
  temp_dir dir;
  auto path = dir.file("volley.json");
  const std::string url = "http://127.0.0.1:9/hooks";
  auto signed_sub = "{\"name\": \"signed\", \"url\": \"" + url +
                    "\", \"secret\": \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}";
  write_file(path, config_json(dir.file("data"),
                               sub("same", url, "") + "," + sub("moved", url, "") + "," + signed_sub));
  daemon_process volleyd{path, dir.file("volleyd.log")};
  BOOST_REQUIRE_MESSAGE(volleyd.wait_ready(), volleyd.log());
  // The start's warnings come from the subscriber actors as they start.
  BOOST_REQUIRE(wait_until([&] { return occurrences(volleyd.log(), "secret=none") >= 2u; }));

  write_file(path,
             config_json(dir.file("data"), sub("same", url, "") + "," + sub("moved", url + "/elsewhere", "") +
                                             "," + signed_sub + "," + sub("added", url, "")));
  line_client client{volleyd.port()};
  client.send_line(R"({"op":"reload"})");
  auto answer = client.read_line();
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->find("\"added\":[\"added\"]") != std::string::npos, *answer);
  BOOST_TEST(answer->find("\"removed\":[]") != std::string::npos, *answer);
  BOOST_TEST(answer->find("\"updated\":[\"moved\"]") != std::string::npos, *answer);
  BOOST_TEST(answer->find("\"unchanged\":[\"same\",\"signed\"]") != std::string::npos, *answer);

  // Those of the reload too: wait for the last, then count in the whole log
  // of the stopped daemon.
  BOOST_REQUIRE(wait_until([&] { return occurrences(volleyd.log(), "secret=none") >= 5u; }));
  BOOST_CHECK_EQUAL(volleyd.stop(), 0);
  auto log = volleyd.log();
  BOOST_TEST(occurrences(log, "subscriber=same secret=none") == 2u, log);
  BOOST_TEST(occurrences(log, "subscriber=moved secret=none") == 2u, log);
  BOOST_TEST(occurrences(log, "subscriber=added secret=none") == 1u, log);
  BOOST_TEST(occurrences(log, "subscriber=signed secret=none") == 0u, log);
  BOOST_TEST(log.find("updated=1 unchanged=2") != std::string::npos, log);
}
