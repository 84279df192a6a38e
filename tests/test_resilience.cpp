// Faults at the endpoints, through the real volleyd binary: every answer of
// the outcome rules (docs/ARCHITECTURE.md), hangs, resets and dead ports, the circuit
// breaker, 410 Gone, the dead-letter queue's control ops and Retry-After.
// Fault plans are pure functions of (subscriber, event id, attempt), so what
// the engine must end up with is computed up front, not observed.

#define BOOST_TEST_MODULE resilience
#include <boost/test/unit_test.hpp>

#include "tests/support/control_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/event_publisher.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/occurrences.hpp"
#include "tests/support/running_node.hpp"
#include "tests/support/scripted_receiver.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace volley::test;
using namespace std::chrono_literals;
using volley::receiver_reply;

namespace {

// `*` matches any run of characters: the test's own reading of the filters.
bool glob(const char* pattern, const char* text) {
  if (*pattern == '\0')
    return *text == '\0';
  if (*pattern == '*')
    return glob(pattern + 1, text) || (*text != '\0' && glob(pattern, text + 1));
  return *text == *pattern && glob(pattern + 1, text + 1);
}

bool wants(const std::vector<std::string>& filters, const std::string& type) {
  if (filters.empty())
    return true;
  for (const auto& f : filters)
    if (glob(f.c_str(), type.c_str()))
      return true;
  return false;
}

// -- deterministic fault plans ----------------------------------------------------

uint64_t mix(uint64_t x) { // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t hash_of(const std::string& text) { // FNV-1a, then mixed
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text)
    h = (h ^ c) * 0x100000001b3ULL;
  return mix(h);
}

enum class fault {
  ok,
  http_408,
  http_425,
  http_500,
  http_503,
  too_many_0,
  too_many_1,
  hang,
  reset, // retryable
  moved,
  not_found,
  bad_request, // not retryable
  gone,
};

receiver_reply reply_of(fault f) {
  receiver_reply r;
  switch (f) {
    case fault::ok:
      r.status = 200;
      break;
    case fault::http_408:
      r.status = 408;
      break;
    case fault::http_425:
      r.status = 425;
      break;
    case fault::http_500:
      r.status = 500;
      break;
    case fault::http_503:
      r.status = 503;
      break;
    case fault::too_many_0:
      r.status = 429;
      r.headers = {{"Retry-After", "0"}};
      break;
    case fault::too_many_1:
      r.status = 429;
      r.headers = {{"Retry-After", "1"}};
      break;
    case fault::hang:
      r.hang = true;
      break;
    case fault::reset:
      r.reset = true;
      break;
    // Redirects are not followed: the Location would deliver elsewhere.
    case fault::moved:
      r.status = 301;
      r.headers = {{"Location", "http://127.0.0.1:1/elsewhere"}};
      break;
    case fault::not_found:
      r.status = 404;
      break;
    case fault::bad_request:
      r.status = 400;
      break;
    case fault::gone:
      r.status = 410;
      break;
  }
  return r;
}

// The status volleyd records for an answer (0: none arrived).
int status_of(fault f) { return f == fault::hang || f == fault::reset ? 0 : reply_of(f).status; }

// What happens to one delivery of a subscriber.
enum class fate {
  delivered, // 200 at once
  recovers,  // `faults` retryable faults, then 200: delivered
  exhausted, // retryable faults for ever: DLQ with attempts == max_attempts
  refused,   // `faults` 500s, then 404/400: DLQ with attempts == faults + 1
  kept,      // 410 for ever: the subscriber is disabled, the delivery pending
};

constexpr uint32_t max_attempts = 4;

struct profile {
  std::string name;
  std::vector<std::string> events;
  int recovers_pct = 0;
  int exhausted_pct = 0;
  int refused_pct = 0;
  std::vector<fault> palette; // the retryable faults this endpoint produces
  bool gone = false;
  std::string extra_settings;
};

struct plan {
  fate what = fate::delivered;
  uint32_t faults = 0;
  fault final_answer = fault::ok;
};

// Resets and hangs only appear in fates whose outcome does not depend on how
// many requests the receiver counts per engine attempt: libcurl silently
// re-sends a request whose reused connection was reset before any answer
// byte, so one engine attempt may meet two scripted answers. "refused"
// therefore uses plain 500s before its final 4xx, and "recovers" leaves
// slack below max_attempts.
plan plan_for(const profile& p, const std::string& id) {
  if (p.gone)
    return {fate::kept, 0, fault::gone};
  auto h = hash_of(p.name + "/" + id);
  auto roll = static_cast<int>(h % 100);
  auto h2 = mix(h);
  if (roll < p.recovers_pct)
    return {fate::recovers, 1 + static_cast<uint32_t>(h2 % (max_attempts - 2)), fault::ok};
  roll -= p.recovers_pct;
  if (roll < p.exhausted_pct)
    return {fate::exhausted, 0, fault::ok};
  roll -= p.exhausted_pct;
  if (roll < p.refused_pct)
    return {fate::refused, h2 % 3 == 0 ? 1u : 0u,
            (h2 >> 8) % 3 == 0   ? fault::moved
            : (h2 >> 8) % 3 == 1 ? fault::not_found
                                 : fault::bad_request};
  return {fate::delivered, 0, fault::ok};
}

fault fault_at(const profile& p, const std::string& id, uint32_t attempt) {
  auto pl = plan_for(p, id);
  auto pick = [&] {
    return p.palette[hash_of(p.name + "/" + id + "#" + std::to_string(attempt)) % p.palette.size()];
  };
  switch (pl.what) {
    case fate::delivered:
      return fault::ok;
    case fate::recovers:
      return attempt <= pl.faults ? pick() : fault::ok;
    case fate::exhausted:
      return pick();
    case fate::refused:
      return attempt <= pl.faults ? fault::http_500 : pl.final_answer;
    case fate::kept:
      return fault::gone;
  }
  return fault::ok;
}

const std::string fast_retries = "\"max_attempts\": " + std::to_string(max_attempts) +
                                 ", \"backoff\": {\"base_ms\": 10, \"max_ms\": 200}"
                                 ", \"breaker\": {\"failure_threshold\": 5, \"cooldown_ms\": 50, "
                                 "\"max_cooldown_ms\": 200}";

// Publishes `events` events to six subscribers with different fault plans,
// waits for everything to settle and checks each delivery's end.
void run_mixed_faults(int events, const std::string& node_extra) {
  const std::vector<profile> profiles = {
    {"steady", {}, 0, 0, 0, {}, false, ""},
    {"flaky",
     {"order.*", "payment.*"},
     30,
     6,
     6,
     {fault::http_408, fault::http_425, fault::http_500, fault::http_503, fault::too_many_0,
      fault::too_many_1},
     false,
     ""},
    {"resetter",
     {"*.created", "*.sent", "payment.failed"},
     30,
     6,
     6,
     {fault::reset, fault::http_500, fault::too_many_0},
     false,
     ""},
    // Hangs cost a whole timeout each: a small one keeps the test short.
    {"slowpoke",
     {"user.*", "shipment.*"},
     25,
     5,
     0,
     {fault::hang, fault::http_500},
     false,
     "\"timeout_ms\": 1000"},
    {"strict", {"order.paid", "user.signup"}, 0, 0, 15, {}, false, ""},
    {"retired", {"shipment.sent"}, 0, 0, 0, {}, true, ""},
  };
  const std::vector<std::string> types = {"order.created", "order.paid", "user.signup", "payment.failed",
                                          "shipment.sent"};

  std::vector<std::unique_ptr<scripted_receiver>> receivers;
  running_node n;
  n.spec.extra = node_extra;
  for (const auto& p : profiles) {
    receivers.push_back(std::make_unique<scripted_receiver>(
      [&p](const std::string& id, uint32_t attempt) { return reply_of(fault_at(p, id, attempt)); }));
    auto settings = fast_retries + (p.extra_settings.empty() ? "" : ", " + p.extra_settings);
    n.spec.subscribers.push_back({p.name, receivers.back()->url(), p.events, "", settings});
  }
  n.start();

  // What must come of it, per subscriber.
  std::vector<std::set<std::string>> want_delivered(profiles.size());
  std::vector<std::map<std::string, plan>> want_dlq(profiles.size());
  std::vector<std::set<std::string>> want_kept(profiles.size());
  std::vector<std::string> lines, ids;
  size_t deliveries = 0, dlq_total = 0, kept_total = 0, delivered_total = 0;
  for (int i = 0; i < events; ++i) {
    auto id = "mix-" + std::to_string(i);
    const auto& type = types[static_cast<size_t>(i) % types.size()];
    lines.push_back(event_line(id, type));
    ids.push_back(id);
    for (size_t s = 0; s < profiles.size(); ++s) {
      if (!wants(profiles[s].events, type))
        continue;
      ++deliveries;
      auto pl = plan_for(profiles[s], id);
      switch (pl.what) {
        case fate::delivered:
        case fate::recovers:
          want_delivered[s].insert(id);
          ++delivered_total;
          break;
        case fate::exhausted:
        case fate::refused:
          want_dlq[s][id] = pl;
          ++dlq_total;
          break;
        case fate::kept:
          want_kept[s].insert(id);
          ++kept_total;
          break;
      }
    }
  }
  BOOST_TEST_MESSAGE("mixed faults: " << events << " events, " << deliveries
                                      << " deliveries: " << delivered_total << " to deliver, " << dlq_total
                                      << " to dead-letter, " << kept_total << " to keep");
  publish_lines(n.port(), lines, ids);

  control_client control{n.port()};
  bool all_arrived = wait_until(
    [&] {
      for (size_t s = 0; s < profiles.size(); ++s)
        if (receivers[s]->delivered_count() < want_delivered[s].size())
          return false;
      return true;
    },
    120s);
  node_stats stats;
  bool settled = wait_until(
    [&] {
      stats = control.stats();
      return stats.queued == static_cast<int64_t>(kept_total) && stats.dlq == static_cast<int64_t>(dlq_total);
    },
    all_arrived ? 60s : 5s);
  // The monitor's totals follow within a report interval or two.
  bool counted = wait_until(
    [&] {
      stats = control.stats();
      for (size_t s = 0; s < profiles.size(); ++s) {
        auto& v = stats.subscribers[profiles[s].name];
        if (v.delivered_total + v.dead_lettered_total <
            static_cast<int64_t>(want_delivered[s].size() + want_dlq[s].size()))
          return false;
      }
      return true;
    },
    settled ? 15s : 3s);
  BOOST_CHECK_MESSAGE(all_arrived, "not every expected delivery arrived in time");
  BOOST_CHECK_MESSAGE(settled, "did not settle: node queued=" << stats.queued << " (want " << kept_total
                                                              << ") dlq=" << stats.dlq << " (want "
                                                              << dlq_total << ")");
  BOOST_CHECK_MESSAGE(counted, "monitor totals did not reach the expected counts");

  // Deliveries: exactly the expected events, none lost; duplicates reported.
  for (size_t s = 0; s < profiles.size(); ++s) {
    const auto& name = profiles[s].name;
    auto got = receivers[s]->delivered();
    size_t missing = 0, unexpected = 0, duplicates = 0;
    for (const auto& id : want_delivered[s])
      if (got.count(id) == 0 && ++missing <= 5)
        BOOST_ERROR(name << " never got " << id << " (plan faults=" << plan_for(profiles[s], id).faults
                         << ", requests=" << receivers[s]->log_of(id).size() << ")");
    for (const auto& [id, times] : got) {
      if (want_delivered[s].count(id) == 0 && ++unexpected <= 5)
        BOOST_ERROR(name << " got " << id << " which its plan never answers with 2xx");
      if (times > 1 && ++duplicates <= 3) {
        // At-least-once allows it; say what the receiver saw, for the report.
        std::string seen;
        auto log = receivers[s]->log_of(id);
        for (const auto& r : log)
          seen +=
            " #" + std::to_string(r.attempt) + ":" +
            (r.hang    ? "hang"
             : r.reset ? "reset"
                       : std::to_string(r.status)) +
            "@" +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(r.at - log[0].at).count()) +
            "ms";
        BOOST_TEST_MESSAGE(name << " got " << id << " " << times << " times:" << seen);
      }
    }
    BOOST_CHECK_MESSAGE(missing == 0, name << ": " << missing << " deliveries lost");
    BOOST_CHECK_MESSAGE(unexpected == 0, name << ": " << unexpected << " unexpected deliveries");
    size_t hangs = 0, resets = 0, failures = 0;
    for (const auto& r : receivers[s]->log()) {
      hangs += r.hang ? 1 : 0;
      resets += r.reset ? 1 : 0;
      failures += r.status >= 300 ? 1 : 0;
    }
    BOOST_TEST_MESSAGE(name << ": " << got.size() << " delivered, " << duplicates
                            << " delivered more than once, " << receivers[s]->requests() << " requests ("
                            << failures << " error answers, " << hangs << " hangs, " << resets << " resets), "
                            << occurrences(n.log(), "subscriber=" + name + " breaker=open")
                            << " times breaker=open");
  }

  // The DLQ: exactly the refused and the exhausted deliveries, with their attempts.
  auto entries = control.dlq_all(std::nullopt, 250);
  std::map<std::string, std::map<std::string, volley::test::dlq_entry>> dlq; // subscriber -> id -> entry
  for (auto& e : entries)
    BOOST_CHECK_MESSAGE(dlq[e.subscriber].emplace(e.event_id, e).second,
                        "DLQ holds " << e.subscriber << "/" << e.event_id << " twice");
  BOOST_CHECK_EQUAL(entries.size(), dlq_total);
  for (size_t s = 0; s < profiles.size(); ++s) {
    const auto& p = profiles[s];
    auto& have = dlq[p.name];
    size_t reported = 0;
    for (const auto& [id, pl] : want_dlq[s]) {
      auto it = have.find(id);
      if (it == have.end()) {
        if (++reported <= 5)
          BOOST_ERROR(p.name << "/" << id << " is not in the DLQ (fate "
                             << (pl.what == fate::refused ? "refused" : "exhausted") << ")");
        continue;
      }
      const auto& e = it->second;
      if (pl.what == fate::refused) {
        BOOST_CHECK_MESSAGE(e.attempts == pl.faults + 1, p.name << "/" << id << " refused after " << pl.faults
                                                                << " 500s: attempts " << e.attempts
                                                                << ", want " << pl.faults + 1);
        BOOST_CHECK_MESSAGE(e.last_status == status_of(pl.final_answer),
                            p.name << "/" << id << " last_status " << e.last_status << ", want "
                                   << status_of(pl.final_answer));
      } else {
        BOOST_CHECK_MESSAGE(e.attempts == max_attempts, p.name << "/" << id << " exhausted with attempts "
                                                               << e.attempts << ", want " << max_attempts);
        bool known_status = false;
        for (auto f : p.palette)
          known_status = known_status || e.last_status == status_of(f);
        BOOST_CHECK_MESSAGE(known_status, p.name << "/" << id << " last_status " << e.last_status
                                                 << " is not one its endpoint produces");
        BOOST_CHECK_MESSAGE(e.last_error.find("attempts exhausted") != std::string::npos,
                            p.name << "/" << id << " last_error: " << e.last_error);
      }
    }
    for (const auto& [id, e] : have)
      if (want_dlq[s].count(id) == 0 && ++reported <= 10)
        BOOST_ERROR(p.name << "/" << id << " is in the DLQ (attempts " << e.attempts << ", last_status "
                           << e.last_status << ", " << e.last_error << ") but its plan delivers or keeps it");
  }

  // Where every request gets an answer (no hangs, no resets), the engine's
  // attempts and the receiver's count agree one to one: exactly the planned
  // number of requests per event, and an exhausted entry's last status is
  // the plan's answer to attempt max_attempts.
  for (size_t s = 0; s < profiles.size(); ++s) {
    const auto& p = profiles[s];
    bool answers_always = !p.gone;
    for (auto f : p.palette)
      answers_always = answers_always && f != fault::hang && f != fault::reset;
    if (!answers_always)
      continue;
    std::map<std::string, size_t> requests;
    for (const auto& r : receivers[s]->log())
      ++requests[r.event_id];
    size_t reported = 0;
    for (const auto& [id, count] : requests) {
      auto pl = plan_for(p, id);
      size_t want = pl.what == fate::exhausted ? max_attempts : pl.faults + 1;
      if (count != want && ++reported <= 5)
        BOOST_ERROR(p.name << "/" << id << " got " << count << " requests, its plan needs " << want);
      if (pl.what == fate::exhausted) {
        const auto& e = dlq[p.name][id];
        BOOST_CHECK_MESSAGE(e.last_status == status_of(fault_at(p, id, max_attempts)),
                            p.name << "/" << id << " last_status " << e.last_status
                                   << ", the answer to attempt " << max_attempts << " was "
                                   << status_of(fault_at(p, id, max_attempts)));
      }
    }
    BOOST_CHECK_MESSAGE(reported == 0,
                        p.name << ": " << reported << " events with an unplanned number of requests");
  }

  // The monitor agrees, and the healthy subscriber never noticed the others.
  stats = control.stats();
  int64_t delivered_sum = 0, dead_sum = 0;
  for (size_t s = 0; s < profiles.size(); ++s) {
    const auto& v = stats.subscribers[profiles[s].name];
    BOOST_CHECK_MESSAGE(v.delivered_total == static_cast<int64_t>(want_delivered[s].size()),
                        profiles[s].name << " delivered_total " << v.delivered_total << ", want "
                                         << want_delivered[s].size());
    BOOST_CHECK_MESSAGE(v.dead_lettered_total == static_cast<int64_t>(want_dlq[s].size()),
                        profiles[s].name << " dead_lettered_total " << v.dead_lettered_total << ", want "
                                         << want_dlq[s].size());
    delivered_sum += v.delivered_total;
    dead_sum += v.dead_lettered_total;
  }
  BOOST_CHECK_EQUAL(static_cast<size_t>(delivered_sum + dead_sum) + kept_total, deliveries);
  const auto& steady = stats.subscribers["steady"];
  BOOST_CHECK_EQUAL(steady.attempts_total, steady.delivered_total);
  BOOST_CHECK_EQUAL(steady.consecutive_failures, 0);
  BOOST_CHECK_EQUAL(steady.breaker, "closed");

  // 410: disabled, its deliveries kept (pending, not dead-lettered), and no
  // request after the ones already in flight.
  const auto& retired = stats.subscribers["retired"];
  BOOST_CHECK(!retired.enabled);
  BOOST_CHECK_EQUAL(stats.queued, static_cast<int64_t>(kept_total));
  BOOST_CHECK(dlq["retired"].empty());
  BOOST_CHECK_LE(receivers.back()->requests(), 64u); // max_in_flight
  BOOST_CHECK_MESSAGE(n.log().find("subscriber=retired disabled") != std::string::npos,
                      "no log line for the disabled subscriber");

  for (auto& r : receivers)
    r->stop(); // releases hung connections before volleyd stops
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_delivery_ends_delivered_or_dead_lettered_under_mixed_faults) {
  run_mixed_faults(2500, "");
}

// The same with an in-memory queue far smaller than the backlog: deliveries
// are paged in from disk while others wait for their retries.
BOOST_AUTO_TEST_CASE(mixed_faults_with_the_backlog_paged_from_disk) {
  run_mixed_faults(1200, "\"queue\": {\"memory_limit\": 40}");
}

BOOST_AUTO_TEST_CASE(a_dead_endpoint_opens_its_breaker_and_drains_when_it_returns) {
  auto dead_port = free_port(); // nothing listens here until the endpoint "returns"
  scripted_receiver bystander{[](const std::string&, uint32_t) { return receiver_reply{}; }};
  running_node n;
  constexpr uint32_t in_flight = 8, threshold = 3, cooldown_ms = 200;
  n.spec.subscribers = {
    {"dead",
     "http://127.0.0.1:" + std::to_string(dead_port) + "/hook",
     {},
     "",
     "\"max_attempts\": 1000, \"max_in_flight\": " + std::to_string(in_flight) +
       ", \"backoff\": {\"base_ms\": 10, \"max_ms\": 200}, \"breaker\": {\"failure_threshold\": " +
       std::to_string(threshold) + ", \"cooldown_ms\": " + std::to_string(cooldown_ms) +
       ", \"max_cooldown_ms\": 1000}"},
    {"bystander", bystander.url(), {}, "", "\"backoff\": {\"base_ms\": 10, \"max_ms\": 200}"},
  };
  auto started = std::chrono::steady_clock::now();
  n.start();
  constexpr size_t events = 200;
  std::vector<std::string> lines, ids;
  for (size_t i = 0; i < events; ++i) {
    ids.push_back("dead-" + std::to_string(i));
    lines.push_back(event_line(ids.back(), "thing.happened"));
  }
  publish_lines(n.port(), lines, ids);

  // The other subscriber is not held up.
  BOOST_CHECK_MESSAGE(wait_until([&] { return bystander.delivered_count() >= events; }, 60s),
                      "bystander got " << bystander.delivered_count() << " of " << events);

  control_client control{n.port()};
  BOOST_CHECK_MESSAGE(wait_until([&] { return control.stats().subscribers["dead"].breaker == "open"; }, 30s),
                      "stats never showed the breaker open");
  // Each failed half-open probe re-opens it with a log line: wait for a few
  // cooldowns to pass, counted by the daemon itself.
  BOOST_CHECK_MESSAGE(
    wait_until([&] { return occurrences(n.log(), "subscriber=dead breaker=open") >= 4; }, 30s),
    "fewer than 4 breaker=open lines:\n"
      << n.log());
  auto stats = control.stats();
  auto elapsed_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  const auto& dead = stats.subscribers["dead"];
  // Closed: at most max_in_flight plus the retries of the failures before the
  // threshold; open: one probe per cooldown at most.
  auto bound = static_cast<int64_t>(in_flight + threshold) + elapsed_ms / cooldown_ms + 1;
  BOOST_TEST_MESSAGE("dead endpoint: " << dead.attempts_total << " attempts for " << events
                                       << " deliveries in " << elapsed_ms << " ms (bound " << bound << ")");
  BOOST_CHECK_LE(dead.attempts_total, bound);
  BOOST_CHECK_LT(dead.attempts_total, static_cast<int64_t>(events));
  BOOST_CHECK_EQUAL(dead.delivered_total, 0);
  BOOST_CHECK_EQUAL(stats.dlq, 0); // waiting deliveries did not burn their attempts

  // The endpoint returns on the same port: the backlog drains, the breaker closes.
  scripted_receiver revived{[](const std::string&, uint32_t) { return receiver_reply{}; }, dead_port};
  BOOST_CHECK_MESSAGE(wait_until([&] { return revived.delivered_count() >= events; }, 60s),
                      "revived endpoint got " << revived.delivered_count() << " of " << events);
  BOOST_CHECK_MESSAGE(wait_until(
                        [&] {
                          stats = control.stats();
                          return stats.subscribers["dead"].breaker == "closed" && stats.queued == 0;
                        },
                        30s),
                      "breaker " << stats.subscribers["dead"].breaker << ", queued " << stats.queued);
  BOOST_CHECK_MESSAGE(n.log().find("subscriber=dead breaker=closed") != std::string::npos,
                      "no breaker=closed line");
  BOOST_CHECK_EQUAL(stats.dlq, 0);
  for (const auto& [id, times] : revived.delivered())
    BOOST_CHECK_MESSAGE(times == 1, id << " delivered " << times << " times");
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(gone_disables_the_subscriber_across_restarts_and_keeps_its_deliveries) {
  std::atomic<bool> healed{false};
  scripted_receiver retired{[&](const std::string&, uint32_t) {
    receiver_reply r;
    r.status = healed ? 200 : 410;
    return r;
  }};
  scripted_receiver fine{[](const std::string&, uint32_t) { return receiver_reply{}; }};
  running_node n;
  constexpr uint32_t in_flight = 4;
  n.spec.subscribers = {
    {"retired", retired.url(), {}, "", "\"max_in_flight\": " + std::to_string(in_flight)},
    {"fine", fine.url(), {}, "", ""},
  };
  n.start();
  auto send = [&](size_t from, size_t to) {
    std::vector<std::string> lines, ids;
    for (size_t i = from; i < to; ++i) {
      ids.push_back("gone-" + std::to_string(i));
      lines.push_back(event_line(ids.back(), "thing.happened"));
    }
    publish_lines(n.port(), lines, ids);
  };
  send(0, 100);
  BOOST_CHECK(wait_until([&] { return fine.delivered_count() >= 100; }, 60s));
  BOOST_CHECK_MESSAGE(wait_until(
                        [&] { return n.log().find("subscriber=retired disabled") != std::string::npos; },
                        30s),
                      "no 'disabled' line:\n"
                        << n.log());
  // More events after it was disabled: kept too, never sent.
  send(100, 150);
  BOOST_CHECK(wait_until([&] { return fine.delivered_count() >= 150; }, 60s));
  control_client control{n.port()};
  node_stats stats;
  BOOST_CHECK_MESSAGE(wait_until(
                        [&] {
                          stats = control.stats();
                          const auto& r = stats.subscribers["retired"];
                          return !r.enabled && r.queued == 150 && stats.queued == 150;
                        },
                        30s),
                      "retired: enabled=" << stats.subscribers["retired"].enabled
                                          << " queued=" << stats.subscribers["retired"].queued
                                          << ", node queued=" << stats.queued);
  BOOST_CHECK_LE(retired.requests(), in_flight);
  BOOST_CHECK_EQUAL(retired.delivered_count(), 0u);
  BOOST_CHECK_EQUAL(stats.dlq, 0);
  BOOST_CHECK(control.dlq_all(std::string{"retired"}).empty());
  BOOST_CHECK_EQUAL(n.stop(), 0);

  // Disabled across a restart too: it starts disabled, says why and how to
  // re-enable it, and never calls the gone endpoint again.
  const auto requests_before_restart = retired.requests();
  n.start();
  BOOST_CHECK_MESSAGE(
    wait_until([&] { return n.log().find("subscriber=retired disabled (recorded ") != std::string::npos; }),
    "no start-up line for the disabled subscriber:\n"
      << n.log());
  BOOST_CHECK_MESSAGE(n.log().find("endpoint answered 410 Gone); its deliveries stay queued; "
                                   "re-enable with: volley subscriber enable --subscriber retired") !=
                        std::string::npos,
                      n.log());
  BOOST_CHECK_EQUAL(occurrences(n.log(), "subscriber=retired disabled"), 1u);
  BOOST_CHECK_EQUAL(occurrences(n.log(), "subscriber=fine disabled"), 0u);
  control_client after_restart{n.port()};
  // A marker after the restart reaches the healthy subscriber; by then a
  // re-enabled "retired" would have sent its backlog (and the marker).
  send(150, 151);
  BOOST_CHECK(wait_until([&] { return fine.delivered().count("gone-150") == 1; }, 60s));
  BOOST_CHECK_MESSAGE(wait_until(
                        [&] {
                          stats = after_restart.stats();
                          return !stats.subscribers["retired"].enabled && stats.queued == 151;
                        },
                        30s),
                      "after the restart: enabled=" << stats.subscribers["retired"].enabled
                                                    << ", node queued=" << stats.queued);
  BOOST_CHECK_EQUAL(retired.requests(), requests_before_restart);
  BOOST_CHECK_EQUAL(retired.delivered_count(), 0u);
  auto listed = after_restart.call("{\"op\":\"subscribers\"}");
  BOOST_CHECK_MESSAGE(listed.find("\"subscriber\":\"retired\",\"status\"") != std::string::npos &&
                        listed.find("\"enabled\":false,\"disabled_reason\":\"endpoint answered 410 Gone\"") !=
                          std::string::npos,
                      listed);

  // Nothing was dropped: with the endpoint back and the subscriber enabled
  // by the operator, every kept delivery arrives.
  healed = true;
  auto answer = after_restart.call("{\"op\":\"subscriber.enable\",\"subscriber\":\"retired\"}");
  BOOST_CHECK_MESSAGE(answer.find("\"ok\":true") != std::string::npos, answer);
  BOOST_CHECK_MESSAGE(wait_until([&] { return retired.delivered_count() >= 151; }, 60s),
                      "retired got " << retired.delivered_count() << " of 151 after subscriber.enable");
  BOOST_CHECK(wait_until([&] { return after_restart.stats().queued == 0; }, 30s));
  BOOST_CHECK_EQUAL(after_restart.dlq_all().size(), 0u);
  for (const auto& [id, times] : retired.delivered())
    BOOST_CHECK_MESSAGE(times == 1, id << " delivered " << times << " times");
  BOOST_CHECK_EQUAL(n.stop(), 0);

  // Enabled is what the next start remembers as well.
  n.start();
  BOOST_CHECK_EQUAL(occurrences(n.log(), "subscriber=retired disabled"), 0u);
  control_client third{n.port()};
  send(151, 152);
  BOOST_CHECK_MESSAGE(wait_until([&] { return retired.delivered().count("gone-151") == 1; }, 60s),
                      "retired did not get an event after the second restart");
  BOOST_CHECK(third.stats().subscribers["retired"].enabled);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(dlq_list_pages_and_filters_retry_redelivers_delete_removes) {
  // "picky" refuses with 404 until it is fixed; then the first request of
  // each event fails with 500 once. With max_attempts 2 a retried entry is
  // only delivered if it starts over with fresh attempts.
  std::atomic<bool> fixed{false};
  std::mutex phase_mutex;
  std::map<std::string, uint32_t> first_fixed_attempt;
  scripted_receiver picky{[&](const std::string& id, uint32_t attempt) {
    receiver_reply r;
    if (!fixed) {
      r.status = 404;
      return r;
    }
    std::lock_guard<std::mutex> guard{phase_mutex};
    bool first = first_fixed_attempt.emplace(id, attempt).second;
    r.status = first ? 500 : 200;
    return r;
  }};
  scripted_receiver other{[](const std::string&, uint32_t) {
    receiver_reply r;
    r.status = 422;
    return r;
  }};
  const std::string settings = "\"max_attempts\": 2, \"backoff\": {\"base_ms\": 10, \"max_ms\": 200}, "
                               "\"breaker\": {\"failure_threshold\": 1000, \"failure_rate_percent\": 0}";
  running_node n;
  n.spec.subscribers = {
    {"picky", picky.url(), {"pick.*"}, "", settings},
    {"other", other.url(), {"other.*"}, "", settings},
  };
  n.start();
  std::vector<std::string> lines, ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back("p" + std::to_string(i));
    lines.push_back(event_line(ids.back(), "pick.x"));
    if (i < 7) {
      ids.push_back("o" + std::to_string(i));
      lines.push_back(event_line(ids.back(), "other.y"));
    }
  }
  publish_lines(n.port(), lines, ids);

  control_client control{n.port()};
  std::vector<volley::test::dlq_entry> all;
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return (all = control.dlq_all()).size() >= 32; }, 30s),
                        "DLQ holds " << all.size() << " of 32");
  BOOST_CHECK_EQUAL(all.size(), 32u);
  // Unfiltered, in (subscriber, seq) order: "other" before "picky".
  for (size_t i = 0; i < all.size(); ++i)
    BOOST_CHECK_EQUAL(all[i].subscriber, i < 7 ? "other" : "picky");

  // Paging through one subscriber's entries, 10 at a time.
  std::vector<volley::test::dlq_entry> picky_entries;
  std::optional<std::string> after;
  std::vector<size_t> page_sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = control.dlq_list(std::string{"picky"}, 10, after);
    page_sizes.push_back(page.entries.size());
    if (page.next) {
      BOOST_REQUIRE(!page.entries.empty());
      BOOST_CHECK_EQUAL(*page.next, page.entries.back().key);
    }
    for (auto& e : page.entries)
      picky_entries.push_back(e);
    if (!page.next)
      break;
    after = page.next;
  }
  BOOST_CHECK((page_sizes == std::vector<size_t>{10, 10, 5}));
  std::set<std::string> picky_ids, keys;
  uint64_t last_seq = 0;
  for (const auto& e : picky_entries) {
    picky_ids.insert(e.event_id);
    keys.insert(e.key);
    BOOST_CHECK_EQUAL(e.subscriber, "picky");
    BOOST_CHECK_EQUAL(e.type, "pick.x");
    BOOST_CHECK_EQUAL(e.attempts, 1);
    BOOST_CHECK_EQUAL(e.last_status, 404);
    BOOST_CHECK_MESSAGE(e.last_error.find("404") != std::string::npos, e.last_error);
    BOOST_CHECK_MESSAGE(e.body.find("\"" + e.event_id + "\"") != std::string::npos, e.body);
    BOOST_CHECK_EQUAL(e.key.rfind("picky/", 0), 0u);
    auto seq = std::stoull(e.key.substr(6));
    BOOST_CHECK_GT(seq, last_seq); // ascending, no repeats
    last_seq = seq;
  }
  BOOST_CHECK_EQUAL(picky_ids.size(), 25u);
  BOOST_CHECK_EQUAL(keys.size(), 25u);

  auto others = control.dlq_all(std::string{"other"}, 3);
  BOOST_CHECK_EQUAL(others.size(), 7u);
  for (const auto& e : others) {
    BOOST_CHECK_EQUAL(e.subscriber, "other");
    BOOST_CHECK_EQUAL(e.last_status, 422);
    BOOST_CHECK_EQUAL(e.attempts, 1);
  }

  // Malformed requests are refused, with the reason.
  auto no_target = control.call("{\"op\":\"dlq.retry\"}");
  BOOST_CHECK_MESSAGE(no_target.find("\"ok\":false") != std::string::npos &&
                        no_target.find("key") != std::string::npos,
                      no_target);
  auto bad_limit = control.call("{\"op\":\"dlq.list\",\"limit\":0}");
  BOOST_CHECK_MESSAGE(bad_limit.find("\"ok\":false") != std::string::npos, bad_limit);
  auto bad_key = control.call("{\"op\":\"dlq.delete\",\"key\":\"no-slash\"}");
  BOOST_CHECK_MESSAGE(bad_key.find("\"ok\":false") != std::string::npos, bad_key);

  // Retry one entry: it is re-delivered (with fresh attempts) and leaves the DLQ.
  fixed = true;
  const auto& one = picky_entries[3];
  auto r = control.dlq_op("dlq.retry", "key", one.key);
  BOOST_CHECK_MESSAGE(r.ok && r.count == 1, r.line);
  BOOST_CHECK_MESSAGE(wait_until([&] { return picky.delivered().count(one.event_id) == 1; }, 30s),
                      one.event_id << " was not re-delivered; requests: "
                                   << picky.log_of(one.event_id).size());
  auto log = picky.log_of(one.event_id);
  BOOST_CHECK_EQUAL(log.size(), 3u); // 404, then 500 and 200 after the retry
  std::vector<volley::test::dlq_entry> left;
  BOOST_CHECK(wait_until([&] { return (left = control.dlq_all(std::string{"picky"})).size() == 24; }, 10s));
  for (const auto& e : left)
    BOOST_CHECK_NE(e.key, one.key);

  // Retry all of a subscriber's entries.
  r = control.dlq_op("dlq.retry", "subscriber", "picky");
  BOOST_CHECK_MESSAGE(r.ok && r.count == 24, r.line);
  BOOST_CHECK_MESSAGE(wait_until([&] { return picky.delivered_count() >= 25; }, 30s),
                      "picky got " << picky.delivered_count() << " of 25 after dlq.retry");
  BOOST_CHECK(wait_until([&] { return control.dlq_all(std::string{"picky"}).empty(); }, 10s));
  for (const auto& [id, times] : picky.delivered())
    BOOST_CHECK_MESSAGE(times == 1, id << " delivered " << times << " times");

  // Delete one entry, then the rest of the subscriber's.
  r = control.dlq_op("dlq.delete", "key", others[0].key);
  BOOST_CHECK_MESSAGE(r.ok && r.count == 1, r.line);
  auto remaining = control.dlq_all(std::string{"other"});
  BOOST_CHECK_EQUAL(remaining.size(), 6u);
  for (const auto& e : remaining)
    BOOST_CHECK_NE(e.key, others[0].key);
  r = control.dlq_op("dlq.delete", "subscriber", "other");
  BOOST_CHECK_MESSAGE(r.ok && r.count == 6, r.line);
  BOOST_CHECK(control.dlq_all().empty());
  r = control.dlq_op("dlq.retry", "subscriber", "other");
  BOOST_CHECK_MESSAGE(r.ok && r.count == 0, r.line);
  BOOST_CHECK(wait_until([&] { return control.stats().dlq == 0; }, 10s));
  auto before = other.requests();
  BOOST_CHECK_EQUAL(before, 7u); // deleted entries are never sent again
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(dlq_ops_on_a_key_that_is_not_there_are_refused) {
  scripted_receiver refusing{[](const std::string&, uint32_t) {
    receiver_reply r;
    r.status = 404;
    return r;
  }};
  running_node n;
  n.spec.subscribers = {{"refusing", refusing.url(), {}, "", ""}};
  n.start();
  publish_lines(n.port(), {event_line("lonely", "x")}, {"lonely"});
  control_client control{n.port()};
  std::vector<volley::test::dlq_entry> entries;
  BOOST_REQUIRE(wait_until([&] { return (entries = control.dlq_all()).size() == 1; }, 30s));
  auto key = entries[0].key;
  auto r = control.dlq_op("dlq.delete", "key", key);
  BOOST_CHECK_MESSAGE(r.ok && r.count == 1, r.line);
  // A mistyped or stale key must not pass for done.
  r = control.dlq_op("dlq.delete", "key", key);
  BOOST_CHECK_MESSAGE(!r.ok && r.error.rfind("no dead-letter entry " + key, 0) == 0,
                      "deleting an absent key: " << r.line);
  r = control.dlq_op("dlq.retry", "key", key);
  BOOST_CHECK_MESSAGE(!r.ok && r.error.rfind("no dead-letter entry " + key, 0) == 0,
                      "retrying an absent key: " << r.line);
  r = control.dlq_op("dlq.retry", "key", "nosuch/12345");
  BOOST_CHECK_MESSAGE(!r.ok && r.error.rfind("no dead-letter entry nosuch/12345", 0) == 0,
                      "retrying a key that never existed: " << r.line);
  BOOST_CHECK_EQUAL(refusing.requests(), 1u);
  BOOST_CHECK_EQUAL(n.stop(), 0);
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_over_a_small_backoff) {
  // Every event is refused once (429 or 503 with Retry-After in seconds, or
  // 429 with an HTTP date two seconds ahead), then accepted. base_ms is 10,
  // so only Retry-After can make the second request wait a second.
  auto http_date_in = [](int seconds) {
    std::time_t at = std::time(nullptr) + seconds;
    std::tm tm{};
    gmtime_r(&at, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string{buf};
  };
  scripted_receiver patient{[&](const std::string& id, uint32_t attempt) {
    receiver_reply r;
    if (attempt > 1)
      return r;
    auto n = std::stoi(id.substr(id.find('-') + 1));
    switch (n % 3) {
      case 0:
        r.status = 429;
        r.headers = {{"Retry-After", "1"}};
        break;
      case 1:
        r.status = 503;
        r.headers = {{"Retry-After", "1"}};
        break;
      default:
        r.status = 429;
        r.headers = {{"Retry-After", http_date_in(2)}};
        break;
    }
    return r;
  }};
  running_node n;
  n.spec.subscribers = {{"patient",
                         patient.url(),
                         {},
                         "",
                         "\"max_attempts\": 5, \"backoff\": {\"base_ms\": 10, \"max_ms\": 5000}, "
                         "\"breaker\": {\"failure_threshold\": 1000, \"failure_rate_percent\": 0}"}};
  n.start();
  constexpr int events = 30;
  std::vector<std::string> lines, ids;
  for (int i = 0; i < events; ++i) {
    ids.push_back("ra-" + std::to_string(i));
    lines.push_back(event_line(ids.back(), "slow.down"));
  }
  publish_lines(n.port(), lines, ids);
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return patient.delivered_count() >= events; }, 60s),
                        "delivered " << patient.delivered_count() << " of " << events);
  double shortest = 1e9;
  for (const auto& id : ids) {
    auto log = patient.log_of(id);
    BOOST_REQUIRE_GE(log.size(), 2u);
    auto gap = std::chrono::duration<double, std::milli>(log[1].at - log[0].at).count();
    shortest = std::min(shortest, gap);
    // A lower bound only: never fragile under load. 50 ms of slack for the
    // engine's millisecond clock.
    BOOST_CHECK_MESSAGE(gap >= 950, id << ": second attempt " << gap << " ms after a Retry-After of ~1 s");
    BOOST_CHECK_EQUAL(log.size(), 2u);
  }
  BOOST_TEST_MESSAGE("shortest gap after Retry-After: " << shortest << " ms");
  BOOST_CHECK_EQUAL(n.stop(), 0);
}
