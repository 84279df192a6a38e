// Subscribers added, replaced and deleted over the HTTP API of a real
// volleyd: they receive what they asked for, signed; they outlast SIGTERM,
// kill -9 and reloads; deleting one stops it and keeps its pending
// deliveries on disk; the config file's stay read-only; bodies are checked
// exactly as the config file is; secrets never show.

#define BOOST_TEST_MODULE api_subscribers
#include <boost/test/unit_test.hpp>

#include "tests/support/control_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/json_body.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/recording_receiver.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <algorithm>
#include <map>

using namespace volley::test;
using namespace std::chrono_literals;

namespace {

const http_headers json_type{{"Content-Type", "application/json"}};
const std::string rt_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string event(const std::string& type, const std::string& id) {
  return "{\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"data\":{\"n\":1}}";
}

std::string rt_body(const recording_receiver& receiver, const std::string& events = "rt.*") {
  return "{\"name\": \"rt\", \"url\": \"" + receiver.url() + "\", \"events\": [\"" + events +
         "\"], \"secret\": \"" + rt_secret + "\", \"backoff\": {\"base_ms\": 50, \"max_ms\": 500}}";
}

// A node with the API on and one subscriber of its own file: "file", for file.* events.
void start(running_node& n, const recording_receiver& file_receiver) {
  n.spec.api = true;
  n.spec.subscribers = {{"file", file_receiver.url(), {"file.*"}, "file-secret-value", ""}};
  n.start();
  BOOST_REQUIRE_MESSAGE(n.api_port() != 0, n.log());
}

void publish(running_node& n, const std::vector<std::string>& lines) {
  line_client tcp{n.port()};
  for (const auto& answer : tcp.exchange(lines))
    BOOST_REQUIRE_MESSAGE(answer.rfind("{\"ok\":true", 0) == 0, answer);
}

bool received(const recording_receiver& r, const std::string& id) { return r.per_event().count(id) > 0; }

// Pending deliveries of one subscriber in GET /v1/queue; -1 when absent.
int64_t pending_of(http_client& api, const std::string& name, bool* configured = nullptr) {
  auto doc = json_body(api.get("/v1/queue"));
  for (const auto& s : doc["subscribers"].GetArray())
    if (name == s["subscriber"].GetString()) {
      if (configured)
        *configured = s["configured"].GetBool();
      return s["pending"].GetInt64();
    }
  return -1;
}

} // namespace

BOOST_AUTO_TEST_CASE(an_added_subscriber_receives_what_it_asked_for_signed) {
  recording_receiver file_receiver{"file-secret-value"}, receiver{rt_secret};
  running_node n;
  start(n, file_receiver);
  http_client api{n.api_port()};
  auto created = api.post("/v1/subscribers", rt_body(receiver), json_type);
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  auto doc = json_body(created);
  BOOST_TEST(std::string(doc["source"].GetString()) == "api");
  BOOST_TEST(doc["secret_count"].GetInt() == 1);

  std::vector<std::string> lines;
  for (int i = 0; i < 5; ++i)
    lines.push_back(event("rt.created", "rt-" + std::to_string(i)));
  lines.push_back(event("file.changed", "file-1"));
  lines.push_back(event("other.thing", "other-1"));
  publish(n, lines);
  BOOST_REQUIRE(wait_until([&] { return receiver.distinct() == 5 && file_receiver.distinct() == 1; }));
  BOOST_TEST(receiver.invalid_signatures() == 0u);
  BOOST_TEST(!received(receiver, "file-1"));
  BOOST_TEST(!received(receiver, "other-1"));
  BOOST_TEST(!received(file_receiver, "rt-0"));

  // Live state joins a subscriber once the monitor has its first report.
  http_reply listed;
  BOOST_REQUIRE(wait_until([&] {
    listed = api.get("/v1/subscribers");
    auto list = json_body(listed);
    return std::all_of(list["subscribers"].Begin(), list["subscribers"].End(),
                       [](const auto& s) { return s.HasMember("state"); });
  }));
  BOOST_TEST(listed.status == 200);
  std::map<std::string, std::string> sources;
  auto list = json_body(listed);
  for (const auto& s : list["subscribers"].GetArray())
    sources[s["name"].GetString()] = s["source"].GetString();
  BOOST_TEST((sources == std::map<std::string, std::string>{{"file", "config"}, {"rt", "api"}}));
  auto one = api.get("/v1/subscribers/rt");
  BOOST_TEST(one.status == 200);
  BOOST_TEST(json_body(one)["state"]["enabled"].GetBool());
  BOOST_TEST(api.get("/v1/subscribers/nobody").status == 404);
  // Secrets show nowhere: not in answers, not in the log.
  for (const auto& body : {created.body, listed.body, one.body}) {
    BOOST_TEST(body.find(rt_secret) == std::string::npos);
    BOOST_TEST(body.find("file-secret-value") == std::string::npos);
  }
  BOOST_TEST(n.log().find(rt_secret) == std::string::npos);
  BOOST_TEST(n.log().find("api: subscriber=rt added") != std::string::npos, n.log());
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(an_answered_change_outlasts_kill_9_and_sigterm) {
  recording_receiver file_receiver, receiver{rt_secret};
  running_node n;
  start(n, file_receiver);
  {
    http_client api{n.api_port()};
    BOOST_REQUIRE(api.post("/v1/subscribers", rt_body(receiver), json_type).status == 201);
  }
  n.process().kill_hard(); // right after the answer: it was on disk

  start(n, file_receiver);
  {
    http_client api{n.api_port()};
    BOOST_TEST(api.get("/v1/subscribers/rt").status == 200);
    publish(n, {event("rt.a", "k1")});
    BOOST_REQUIRE(wait_until([&] { return received(receiver, "k1"); }));
    // Narrow its filter, then restart with SIGTERM.
    auto replaced = api.put("/v1/subscribers/rt", rt_body(receiver, "rt.b.*"), json_type);
    BOOST_TEST(replaced.status == 200, replaced.body);
  }
  BOOST_TEST(n.stop() == 0);

  start(n, file_receiver);
  http_client api{n.api_port()};
  auto doc = json_body(api.get("/v1/subscribers/rt"));
  BOOST_TEST(std::string(doc["events"][0].GetString()) == "rt.b.*");
  publish(n, {event("rt.a", "k2"), event("rt.b.x", "k3")});
  BOOST_REQUIRE(wait_until([&] { return received(receiver, "k3"); }));
  // k2 was acknowledged first: had it been routed to rt, it would stay
  // pending on disk until it was delivered.
  BOOST_TEST(wait_until([&] { return pending_of(api, "rt") == 0; }));
  BOOST_TEST(!received(receiver, "k2"));
  BOOST_TEST(receiver.invalid_signatures() == 0u);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(deleting_stops_deliveries_and_keeps_the_pending_ones_on_disk) {
  recording_receiver file_receiver, receiver{rt_secret};
  running_node n;
  start(n, file_receiver);
  http_client api{n.api_port()};
  BOOST_REQUIRE(api.post("/v1/subscribers", rt_body(receiver), json_type).status == 201);
  // Disabled, its deliveries wait on disk.
  BOOST_REQUIRE(api.post("/v1/subscribers/rt/disable", "").status == 200);
  publish(n, {event("rt.a", "p1"), event("rt.a", "p2"), event("rt.a", "p3")});
  BOOST_REQUIRE(wait_until([&] { return pending_of(api, "rt") == 3; }));

  auto deleted = api.del("/v1/subscribers/rt");
  BOOST_TEST(deleted.status == 200);
  BOOST_TEST(deleted.body == "{\"name\":\"rt\",\"deleted\":true}");
  BOOST_TEST(api.get("/v1/subscribers/rt").status == 404);
  BOOST_TEST(api.del("/v1/subscribers/rt").status == 404);
  BOOST_TEST(api.post("/v1/subscribers/rt/enable", "").status == 404);
  bool configured = true;
  BOOST_TEST(pending_of(api, "rt", &configured) == 3);
  BOOST_TEST(!configured);
  // New rt.* events have nobody to go to.
  publish(n, {event("rt.a", "p4")});
  BOOST_TEST(pending_of(api, "rt") == 3);
  BOOST_TEST(receiver.count() == 0u);

  // Added again, it finds what waited for it (and its recorded disable).
  BOOST_REQUIRE(api.post("/v1/subscribers", rt_body(receiver), json_type).status == 201);
  BOOST_REQUIRE(api.post("/v1/subscribers/rt/enable", "").status == 200);
  BOOST_REQUIRE(wait_until([&] { return receiver.distinct() == 3; }));
  BOOST_TEST(!received(receiver, "p4"));
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(the_files_subscribers_can_be_read_and_switched_but_not_changed) {
  recording_receiver file_receiver;
  running_node n;
  start(n, file_receiver);
  http_client api{n.api_port()};
  const std::string body = "{\"url\": \"" + file_receiver.url() + "\"}";
  auto put = api.put("/v1/subscribers/file", body, json_type);
  BOOST_TEST(put.status == 409);
  BOOST_TEST(error_of(put).find("comes from the config file") != std::string::npos, put.body);
  BOOST_TEST(api.del("/v1/subscribers/file").status == 409);
  BOOST_TEST(
    api.post("/v1/subscribers", "{\"name\": \"file\", \"url\": \"" + file_receiver.url() + "\"}", json_type)
      .status == 409);
  auto got = api.get("/v1/subscribers/file");
  BOOST_TEST(got.status == 200);
  BOOST_TEST(std::string(json_body(got)["source"].GetString()) == "config");
  BOOST_TEST(api.post("/v1/subscribers/file/disable", "").status == 200);
  BOOST_TEST(api.post("/v1/subscribers/file/enable", "").status == 200);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(bodies_are_checked_exactly_as_the_config_file_is) {
  recording_receiver file_receiver;
  running_node n;
  start(n, file_receiver);
  http_client api{n.api_port()};
  const std::vector<std::string> bad = {
    R"({"name": "x y", "url": "gopher://h.example/", "backoff": {"base_ms": 0}, "colour": 1})",
    R"({"url": "http://u:p@h.example/", "secret": "whsec_!!", "max_in_flight": -1})",
  };
  temp_dir dir;
  for (const auto& object : bad) {
    auto refused = api.post("/v1/subscribers", object, json_type);
    BOOST_TEST(refused.status == 400, refused.body);
    // The same object in a config file, checked by volleyd itself.
    write_file(dir.file("c.json"), "{\"subscribers\": [" + object + "]}");
    std::string check;
    BOOST_REQUIRE(run_command(std::string(VOLLEYD_PATH) + " --check-config " + dir.file("c.json"), check) !=
                  0);
    auto doc = json_body(refused);
    size_t matched = 0;
    for (const auto& e : doc["errors"].GetArray()) {
      auto line = "config error: subscribers[0]." + std::string(e["key"].GetString()) + ": " +
                  e["message"].GetString() + "\n";
      BOOST_TEST(check.find(line) != std::string::npos, line << " not in:\n" << check);
      ++matched;
    }
    BOOST_TEST(matched == static_cast<size_t>(std::count(check.begin(), check.end(), '\n')) - 1, check);
  }
  auto renamed = api.put("/v1/subscribers/a", R"({"name": "b", "url": "http://h.example/"})", json_type);
  BOOST_TEST(renamed.status == 400);
  BOOST_TEST(api.post("/v1/subscribers", "{\"name\":", json_type).status == 400);
  BOOST_TEST(api.post("/v1/subscribers", "name=a", {{"Content-Type", "text/plain"}}).status == 415);
  // Nothing of the refused ones was kept.
  BOOST_TEST(json_body(api.get("/v1/subscribers"))["subscribers"].Size() == 1u);
  BOOST_TEST(n.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_reload_keeps_the_api_subscribers) {
  recording_receiver file_receiver, receiver{rt_secret};
  running_node n;
  start(n, file_receiver);
  http_client api{n.api_port()};
  BOOST_REQUIRE(api.post("/v1/subscribers", rt_body(receiver), json_type).status == 201);
  control_client control{n.port()};
  auto reloaded = control.call(R"({"op":"reload"})");
  BOOST_TEST(reloaded.find("\"removed\":[]") != std::string::npos, reloaded);
  BOOST_TEST(api.get("/v1/subscribers/rt").status == 200);
  publish(n, {event("rt.a", "after-reload")});
  BOOST_TEST(wait_until([&] { return received(receiver, "after-reload"); }));
  BOOST_TEST(n.stop() == 0);
}
