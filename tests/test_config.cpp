#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include "config/config_loader.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

using namespace volley;

namespace {

// The example config of the design, verbatim.
constexpr const char* design_example = R"({
  "ingress":  { "host": "127.0.0.1", "port": 7400 },
  "storage":  { "path": "./data" },
  "monitor":  { "interval_ms": 10000 },
  "allow_private_networks": false,
  "subscribers": [
    { "name": "billing",
      "url": "https://billing.example.com/hooks",
      "events": ["order.*", "invoice.paid"],
      "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "max_attempts": 8, "timeout_ms": 10000,
      "backoff": { "base_ms": 5000, "max_ms": 3600000 },
      "max_in_flight": 64 }
  ]
})";

// A document with one subscriber whose remaining members are `members`.
std::string with_subscriber(const std::string& members) {
  return R"({"subscribers": [{"name": "a", "url": "http://h.example/x")" +
         (members.empty() ? "" : ", " + members) + "}]}";
}

std::string source_dir() {
  std::string file = __FILE__;
  auto slash = file.find_last_of('/');
  return slash == std::string::npos ? "." : file.substr(0, slash);
}

std::string all_errors(const config_result& result) { return format_config_errors(result.errors); }

bool has_error(const config_result& result, const std::string& key, const std::string& fragment) {
  for (const auto& e : result.errors)
    if (e.key == key && e.message.find(fragment) != std::string::npos)
      return true;
  return false;
}

struct error_case {
  std::string json;
  std::string key;
  std::string fragment; // part of the message
};

void check_error_cases(const std::vector<error_case>& cases) {
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("json: " << c.json) {
      auto result = parse_config(c.json);
      BOOST_TEST(!result.value.has_value());
      BOOST_TEST(has_error(result, c.key, c.fragment), "expected '" << c.key << ": ..." << c.fragment
                                                                    << "...', got:\n"
                                                                    << all_errors(result));
    }
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(valid)

BOOST_AUTO_TEST_CASE(design_example_parses) {
  auto result = parse_config(design_example);
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& cfg = *result.value;
  BOOST_TEST(cfg.ingress.host == "127.0.0.1");
  BOOST_TEST(cfg.ingress.port == 7400);
  BOOST_TEST(cfg.storage.path == "./data");
  BOOST_TEST(cfg.monitor.interval_ms == 10000u);
  BOOST_TEST(!cfg.allow_private_networks);
  BOOST_REQUIRE(cfg.subscribers.size() == 1u);
  const auto& sub = cfg.subscribers[0];
  BOOST_TEST(sub.name == "billing");
  BOOST_TEST(sub.url == "https://billing.example.com/hooks");
  BOOST_TEST(sub.events == (std::vector<std::string>{"order.*", "invoice.paid"}),
             boost::test_tools::per_element());
  BOOST_TEST(sub.secrets == (std::vector<std::string>{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
             boost::test_tools::per_element());
  BOOST_TEST(sub.max_attempts == 8u);
  BOOST_TEST(sub.timeout_ms == 10000u);
  BOOST_TEST(sub.backoff.base_ms == 5000u);
  BOOST_TEST(sub.backoff.max_ms == 3600000u);
  BOOST_TEST(sub.max_in_flight == 64u);
  BOOST_TEST(sub.enabled);
  BOOST_TEST(!sub.tls_insecure);
}

BOOST_AUTO_TEST_CASE(empty_object_gives_the_defaults) {
  auto result = parse_config("{}");
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& cfg = *result.value;
  config defaults;
  BOOST_TEST(cfg.ingress.port == defaults.ingress.port);
  BOOST_TEST(cfg.storage.map_size_mb == defaults.storage.map_size_mb);
  BOOST_TEST(cfg.monitor.format == "logfmt");
  BOOST_TEST(cfg.log_level == "info");
  BOOST_TEST(cfg.subscribers.empty());
  BOOST_TEST(cfg.priority_rules.empty());
  // Thread counts of 0 mean "from the cores": never 0 once loaded.
  BOOST_TEST(cfg.http.threads >= 1u);
  BOOST_TEST(cfg.http.threads <= std::max(1u, std::thread::hardware_concurrency()));
  BOOST_TEST(cfg.scheduler.threads >= 2u);
}

BOOST_AUTO_TEST_CASE(every_key_is_read) {
  auto result = parse_config(R"({
    "ingress": {"host": "0.0.0.0", "port": 8000, "max_line_bytes": 2048,
                "max_unacked": 10, "max_connections": 20, "token": "t0k"},
    "storage": {"path": "/var/lib/volley", "map_size_mb": 1, "batch_max": 128,
                "batch_interval_ms": 5, "outcome_interval_ms": 40},
    "monitor": {"interval_ms": 250, "window_s": 60, "healthy_percent": 99.5,
                "degraded_percent": 90, "format": "json"},
    "queue": {"memory_limit": 500, "dedup_window_s": 0},
    "http": {"max_concurrent": 64, "threads": 3},
    "allow_private_networks": true,
    "log_level": "debug",
    "priority_rules": [{"event": "payment.*", "priority": 3},
                       {"event": "*.failed", "priority": 0}],
    "subscribers": [{"name": "Sub_1.x-y", "url": "HTTPS://[::1]:8443/a?b=c",
                     "events": [], "secrets": ["whsec_Zm9vYmFy", "plain"],
                     "rate_limit_per_s": 2.5, "tls_insecure": true, "enabled": false,
                     "breaker": {"failure_threshold": 2, "cooldown_ms": 10,
                                 "max_cooldown_ms": 10, "failure_rate_percent": 75,
                                 "min_requests": 40, "rate_window_ms": 5000},
                     "concurrency": {"adaptive": false, "initial": 16,
                                     "decrease_factor": 0.8, "latency_ratio": 0},
                     "disable_after_hours": 72}]
  })");
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& cfg = *result.value;
  BOOST_TEST(cfg.ingress.host == "0.0.0.0");
  BOOST_TEST(cfg.ingress.port == 8000);
  BOOST_TEST(cfg.ingress.max_line_bytes == 2048u);
  BOOST_TEST(cfg.ingress.max_unacked == 10u);
  BOOST_TEST(cfg.ingress.max_connections == 20u);
  BOOST_TEST(cfg.ingress.token == "t0k");
  BOOST_TEST(cfg.storage.path == "/var/lib/volley");
  BOOST_TEST(cfg.storage.map_size_mb == 1u);
  BOOST_TEST(cfg.storage.batch_max == 128u);
  BOOST_TEST(cfg.storage.batch_interval_ms == 5u);
  BOOST_TEST(cfg.storage.outcome_interval_ms == 40u);
  BOOST_TEST(cfg.monitor.interval_ms == 250u);
  BOOST_TEST(cfg.monitor.window_s == 60u);
  BOOST_TEST(cfg.monitor.healthy_percent == 99.5);
  BOOST_TEST(cfg.monitor.degraded_percent == 90.0);
  BOOST_TEST(cfg.monitor.format == "json");
  BOOST_TEST(cfg.queue.memory_limit == 500u);
  BOOST_TEST(cfg.queue.dedup_window_s == 0u);
  BOOST_TEST(cfg.http.max_concurrent == 64u);
  BOOST_TEST(cfg.http.threads == 3u);
  BOOST_TEST(cfg.allow_private_networks);
  BOOST_TEST(cfg.log_level == "debug");
  BOOST_REQUIRE(cfg.priority_rules.size() == 2u);
  BOOST_TEST(cfg.priority_rules[0].event == "payment.*");
  BOOST_TEST(cfg.priority_rules[0].priority == 3);
  BOOST_TEST(cfg.priority_rules[1].event == "*.failed");
  BOOST_TEST(cfg.priority_rules[1].priority == 0);
  BOOST_REQUIRE(cfg.subscribers.size() == 1u);
  const auto& sub = cfg.subscribers[0];
  BOOST_TEST(sub.name == "Sub_1.x-y");
  BOOST_TEST(sub.events.empty());
  BOOST_TEST(sub.secrets == (std::vector<std::string>{"whsec_Zm9vYmFy", "plain"}),
             boost::test_tools::per_element());
  BOOST_TEST(sub.rate_limit_per_s == 2.5);
  BOOST_TEST(sub.tls_insecure);
  BOOST_TEST(!sub.enabled);
  BOOST_TEST(sub.breaker.failure_threshold == 2u);
  BOOST_TEST(sub.breaker.cooldown_ms == 10u);
  BOOST_TEST(sub.breaker.max_cooldown_ms == 10u);
  BOOST_TEST(sub.breaker.failure_rate_percent == 75.0);
  BOOST_TEST(sub.breaker.min_requests == 40u);
  BOOST_TEST(sub.breaker.rate_window_ms == 5000u);
  BOOST_TEST(!sub.concurrency.adaptive);
  BOOST_TEST(sub.concurrency.initial == 16u);
  BOOST_TEST(sub.concurrency.decrease_factor == 0.8);
  BOOST_TEST(sub.concurrency.latency_ratio == 0.0);
  BOOST_TEST(sub.disable_after_hours == 72u);
}

// n8n receivers read X-Webhook-Signature-256, GitHub-style ones
// X-Hub-Signature-256: the legacy header's name is the subscriber's to set.
BOOST_AUTO_TEST_CASE(legacy_signature_header_is_an_http_header_name) {
  for (const char* name : {"X-Webhook-Signature-256", "X-Hub-Signature-256", "x-signature"}) {
    auto result = parse_config(with_subscriber(std::string{R"("legacy_signature_header": ")"} + name + "\""));
    BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
    BOOST_TEST(result.value->subscribers.at(0).legacy_signature_header == name);
  }
  check_error_cases({
    {with_subscriber(R"("legacy_signature_header": "")"), "subscribers[0].legacy_signature_header",
     "must be a non-empty string"},
    {with_subscriber(R"("legacy_signature_header": 256)"), "subscribers[0].legacy_signature_header",
     "must be a non-empty string"},
    {with_subscriber(R"("legacy_signature_header": "X-Hub-Signature: 256")"),
     "subscribers[0].legacy_signature_header", "must be an HTTP header name"},
    {with_subscriber(R"("legacy_signature_header": "X-Sig\r\nHost")"),
     "subscribers[0].legacy_signature_header", "must be an HTTP header name"},
    {with_subscriber(R"("legacy_signature_header": "webhook-signature")"),
     "subscribers[0].legacy_signature_header", "every delivery sets that header already"},
    {with_subscriber(R"("legacy_signature_header": "content-type")"),
     "subscribers[0].legacy_signature_header", "every delivery sets that header already"},
  });
}

BOOST_AUTO_TEST_CASE(breaker_concurrency_and_disable_defaults) {
  auto result = parse_config(with_subscriber(""));
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& sub = result.value->subscribers.at(0);
  // A 30 % failure pattern at volume must not open the breaker.
  BOOST_TEST(sub.breaker.failure_rate_percent == 50.0);
  BOOST_TEST(sub.breaker.min_requests == 20u);
  BOOST_TEST(sub.breaker.rate_window_ms == 30000u);
  BOOST_TEST(sub.breaker.failure_threshold == 5u);
  BOOST_TEST(sub.concurrency.adaptive);
  BOOST_TEST(sub.concurrency.initial == 4u);
  BOOST_TEST(sub.concurrency.decrease_factor == 0.5);
  BOOST_TEST(sub.concurrency.latency_ratio == 3.0);
  BOOST_TEST(sub.legacy_signature_header == "X-Webhook-Signature"); // the delivery contract's
  BOOST_TEST(sub.disable_after_hours == 0u);                        // off
}

BOOST_AUTO_TEST_CASE(subscribers_inherit_defaults_and_override_parts) {
  auto result = parse_config(R"({
    "defaults": {"max_attempts": 3, "timeout_ms": 2000, "max_in_flight": 4,
                 "backoff": {"base_ms": 100, "max_ms": 1000, "jitter": 0},
                 "breaker": {"failure_threshold": 7, "cooldown_ms": 50,
                             "max_cooldown_ms": 500, "failure_rate_percent": 0},
                 "concurrency": {"initial": 8, "latency_ratio": 0},
                 "disable_after_hours": 72},
    "subscribers": [
      {"name": "plain", "url": "http://a.example/"},
      {"name": "custom", "url": "http://b.example/", "max_attempts": 10,
       "backoff": {"base_ms": 200}, "breaker": {"cooldown_ms": 60, "min_requests": 50},
       "concurrency": {"decrease_factor": 0.7}, "disable_after_hours": 0}
    ]
  })");
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& plain = result.value->subscribers.at(0);
  BOOST_TEST(plain.max_attempts == 3u);
  BOOST_TEST(plain.timeout_ms == 2000u);
  BOOST_TEST(plain.max_in_flight == 4u);
  BOOST_TEST(plain.backoff.base_ms == 100u);
  BOOST_TEST(plain.backoff.max_ms == 1000u);
  BOOST_TEST(plain.backoff.jitter == 0.0);
  BOOST_TEST(plain.breaker.failure_threshold == 7u);
  BOOST_TEST(plain.breaker.cooldown_ms == 50u);
  BOOST_TEST(plain.breaker.max_cooldown_ms == 500u);
  BOOST_TEST(plain.breaker.failure_rate_percent == 0.0);
  BOOST_TEST(plain.concurrency.adaptive);
  BOOST_TEST(plain.concurrency.initial == 8u);
  BOOST_TEST(plain.concurrency.decrease_factor == 0.5);
  BOOST_TEST(plain.concurrency.latency_ratio == 0.0);
  BOOST_TEST(plain.disable_after_hours == 72u);

  const auto& custom = result.value->subscribers.at(1);
  BOOST_TEST(custom.max_attempts == 10u);
  BOOST_TEST(custom.timeout_ms == 2000u);
  BOOST_TEST(custom.max_in_flight == 4u);
  BOOST_TEST(custom.backoff.base_ms == 200u);
  BOOST_TEST(custom.backoff.max_ms == 1000u); // from defaults
  BOOST_TEST(custom.backoff.jitter == 0.0);   // from defaults
  BOOST_TEST(custom.breaker.failure_threshold == 7u);
  BOOST_TEST(custom.breaker.cooldown_ms == 60u);
  BOOST_TEST(custom.breaker.max_cooldown_ms == 500u);
  BOOST_TEST(custom.breaker.failure_rate_percent == 0.0); // from defaults
  BOOST_TEST(custom.breaker.min_requests == 50u);
  BOOST_TEST(custom.concurrency.initial == 8u);        // from defaults
  BOOST_TEST(custom.concurrency.latency_ratio == 0.0); // from defaults
  BOOST_TEST(custom.concurrency.decrease_factor == 0.7);
  BOOST_TEST(custom.disable_after_hours == 0u);
}

BOOST_AUTO_TEST_CASE(example_file_loads) {
  auto result = load_config_file(source_dir() + "/../config/example.json");
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& cfg = *result.value;
  BOOST_TEST(cfg.ingress.host == "127.0.0.1");
  BOOST_TEST(cfg.ingress.port == 7400);
  BOOST_TEST(cfg.api.enabled);
  BOOST_TEST(cfg.api.port == 7401);
  BOOST_TEST(cfg.storage.path == "./data");
  BOOST_TEST(cfg.monitor.interval_ms == 5000u);
  BOOST_TEST(cfg.allow_private_networks);
  BOOST_REQUIRE(cfg.priority_rules.size() == 1u);
  BOOST_TEST(cfg.priority_rules[0].event == "payment.*");
  BOOST_TEST(cfg.priority_rules[0].priority == 3);
  BOOST_REQUIRE(cfg.subscribers.size() == 2u);
  BOOST_TEST(cfg.subscribers[0].name == "billing");
  BOOST_TEST(cfg.subscribers[0].url == "http://127.0.0.1:9000/hooks/billing");
  BOOST_TEST(cfg.subscribers[0].events.size() == 2u);
  BOOST_TEST(cfg.subscribers[1].name == "audit");
  BOOST_TEST(cfg.subscribers[1].url == "http://127.0.0.1:9000/hooks/audit");
  BOOST_TEST(cfg.subscribers[1].events.empty());
  BOOST_TEST(cfg.subscribers[1].secrets == (std::vector<std::string>{"audit-secret"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(invalid_json_is_one_error_with_position) {
  auto result = parse_config("{\n  \"ingress\": {,}\n}");
  BOOST_TEST(!result.value.has_value());
  BOOST_REQUIRE(result.errors.size() == 1u);
  BOOST_TEST(result.errors[0].key == "");
  BOOST_TEST(result.errors[0].message.find("invalid JSON at line 2, column 15 (offset 16)") !=
               std::string::npos,
             result.errors[0].message);
  BOOST_TEST(result.errors[0].message.find("Missing a name for object member") != std::string::npos,
             result.errors[0].message);

  check_error_cases(
    {{"", "", "invalid JSON"}, {"{} {}", "", "invalid JSON"}, {"{\"a\": 1", "", "invalid JSON"}});
}

BOOST_AUTO_TEST_CASE(top_level_must_be_an_object) {
  check_error_cases({{"[]", "", "must be a JSON object"}, {"42", "", "must be a JSON object"}});
}

BOOST_AUTO_TEST_CASE(unknown_keys_at_every_level) {
  check_error_cases({
    {R"({"ingres": {}})", "ingres", "unknown key"},
    {R"({"ingress": {"hots": "x"}})", "ingress.hots", "unknown key"},
    {R"({"storage": {"size": 1}})", "storage.size", "unknown key"},
    {R"({"monitor": {"interval": 1}})", "monitor.interval", "unknown key"},
    {R"({"queue": {"limit": 1}})", "queue.limit", "unknown key"},
    {R"({"defaults": {"retries": 1}})", "defaults.retries", "unknown key"},
    {R"({"defaults": {"backoff": {"base": 1}}})", "defaults.backoff.base", "unknown key"},
    {R"({"priority_rules": [{"event": "a", "priority": 1, "x": 0}]})", "priority_rules[0].x", "unknown key"},
    {with_subscriber(R"("retries": 3)"), "subscribers[0].retries", "unknown key"},
    {with_subscriber(R"("backoff": {"base_ms": 1, "maxms": 2})"), "subscribers[0].backoff.maxms",
     "unknown key"},
    {with_subscriber(R"("breaker": {"threshold": 2})"), "subscribers[0].breaker.threshold", "unknown key"},
    {R"({"defaults": {"concurrency": {"inital": 2}}})", "defaults.concurrency.inital",
     "unknown key; expected one of: adaptive, initial, decrease_factor, latency_ratio"},
    {with_subscriber(R"("concurrency": {"max": 2})"), "subscribers[0].concurrency.max", "unknown key"},
  });
  // The message lists what was expected, so a typo is easy to spot.
  auto result = parse_config(R"({"ingress": {"prot": 1}})");
  BOOST_TEST(has_error(result, "ingress.prot", "port"), all_errors(result));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_refused) {
  check_error_cases({{R"({"ingress": {"port": 1, "port": 2}})", "ingress.port", "duplicate key"}});
}

// A private CA: trusted for every subscriber (http.tls_ca_file) or one
// (its own tls_ca_file); the file must be there and hold PEM certificates.
BOOST_AUTO_TEST_CASE(tls_ca_file_global_and_per_subscriber) {
  test::temp_dir dir;
  auto global = dir.file("global.pem");
  auto own = dir.file("own.pem");
  for (const auto& path : {global, own})
    test::write_file(path, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  auto result = parse_config(R"({"http": {"tls_ca_file": ")" + global + R"("},
    "subscribers": [{"name": "a", "url": "https://a.example/x"},
                    {"name": "b", "url": "https://b.example/x", "tls_ca_file": ")" +
                             own + R"("}]})");
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  BOOST_TEST(result.value->http.tls_ca_file == global);
  BOOST_TEST(result.value->subscribers.at(0).tls_ca_file == global);
  BOOST_TEST(result.value->subscribers.at(1).tls_ca_file == own);

  auto none = parse_config(with_subscriber(""));
  BOOST_REQUIRE_MESSAGE(none.value.has_value(), all_errors(none));
  BOOST_TEST(none.value->subscribers.at(0).tls_ca_file.empty()); // the system's CAs

  auto not_pem = dir.file("not.pem");
  test::write_file(not_pem, "just text\n");
  auto missing = dir.file("missing.pem");
  check_error_cases({
    {R"({"http": {"tls_ca_file": ")" + missing + R"("}})", "http.tls_ca_file",
     "cannot read \"" + missing + "\": No such file or directory"},
    {with_subscriber(R"("tls_ca_file": ")" + dir.path() + R"(")"), "subscribers[0].tls_ca_file",
     "Is a directory"},
    {with_subscriber(R"("tls_ca_file": ")" + not_pem + R"(")"), "subscribers[0].tls_ca_file",
     "holds no PEM certificate"},
    {with_subscriber(R"("tls_ca_file": "")"), "subscribers[0].tls_ca_file", "must be a non-empty string"},
    {R"({"http": {"tls_ca_file": 3}})", "http.tls_ca_file", "must be a non-empty string"},
  });
}

BOOST_AUTO_TEST_CASE(wrong_types) {
  check_error_cases({
    {R"({"ingress": []})", "ingress", "must be an object"},
    {R"({"ingress": {"host": 5}})", "ingress.host", "must be a non-empty string"},
    {R"({"ingress": {"port": "7400"}})", "ingress.port", "must be an integer between 0 and 65535"},
    {R"({"ingress": {"token": 1}})", "ingress.token", "must be a string"},
    {R"({"ingress": {"max_unacked": 1.5}})", "ingress.max_unacked", "must be a positive integer"},
    {R"({"storage": {"path": null}})", "storage.path", "must be a non-empty string"},
    {R"({"allow_private_networks": "yes"})", "allow_private_networks", "must be a boolean"},
    {R"({"monitor": {"healthy_percent": "95"}})", "monitor.healthy_percent",
     "must be a number between 0 and 100"},
    {R"({"log_level": 3})", "log_level", "must be one of"},
    {R"({"priority_rules": {}})", "priority_rules", "must be an array"},
    {R"({"priority_rules": [3]})", "priority_rules[0]", "must be an object"},
    {R"({"subscribers": {}})", "subscribers", "must be an array of subscriber objects"},
    {R"({"subscribers": ["billing"]})", "subscribers[0]", "must be an object"},
    {with_subscriber(R"("enabled": 1)"), "subscribers[0].enabled", "must be a boolean"},
    {with_subscriber(R"("tls_insecure": "false")"), "subscribers[0].tls_insecure", "must be a boolean"},
    {with_subscriber(R"("backoff": 5)"), "subscribers[0].backoff", "must be an object"},
    {with_subscriber(R"("rate_limit_per_s": "fast")"), "subscribers[0].rate_limit_per_s", "must be a number"},
    {with_subscriber(R"("concurrency": true)"), "subscribers[0].concurrency", "must be an object, got true"},
    {R"({"defaults": {"concurrency": []}})", "defaults.concurrency", "must be an object"},
    {with_subscriber(R"("concurrency": {"adaptive": "yes"})"), "subscribers[0].concurrency.adaptive",
     "must be a boolean"},
    {with_subscriber(R"("concurrency": {"initial": 2.5})"), "subscribers[0].concurrency.initial",
     "must be a positive integer, got 2.5"},
    {with_subscriber(R"("disable_after_hours": "72")"), "subscribers[0].disable_after_hours",
     "must be an integer between 0 and 8760, got a string"},
  });
}

BOOST_AUTO_TEST_CASE(numbers_out_of_range) {
  check_error_cases({
    {R"({"ingress": {"port": 65536}})", "ingress.port", "between 0 and 65535, got 65536"},
    {R"({"ingress": {"max_line_bytes": 0}})", "ingress.max_line_bytes", "positive integer"},
    {R"({"ingress": {"max_connections": 4294967296}})", "ingress.max_connections", "positive integer"},
    {R"({"storage": {"map_size_mb": 0}})", "storage.map_size_mb", "positive integer"},
    {R"({"http": {"threads": 65}})", "http.threads", "between 0 and 64, got 65"},
    {R"({"storage": {"batch_interval_ms": 1001}})", "storage.batch_interval_ms",
     "between 0 and 1000, got 1001"},
    {R"({"storage": {"batch_interval_ms": -1}})", "storage.batch_interval_ms", "got -1"},
    {R"({"storage": {"outcome_interval_ms": 1001}})", "storage.outcome_interval_ms",
     "between 0 and 1000, got 1001"},
    {R"({"queue": {"dedup_window_s": 31536001}})", "queue.dedup_window_s", "between 0 and 31536000"},
    {R"({"queue": {"dedup_max_ids": 0}})", "queue.dedup_max_ids", "positive integer"},
    {R"({"monitor": {"interval_ms": 0}})", "monitor.interval_ms", "positive integer"},
    {R"({"monitor": {"interval_ms": -5}})", "monitor.interval_ms", "got -5"},
    {R"({"monitor": {"healthy_percent": 101}})", "monitor.healthy_percent", "between 0 and 100"},
    {R"({"monitor": {"degraded_percent": -1}})", "monitor.degraded_percent", "between 0 and 100"},
    {R"({"monitor": {"healthy_percent": 70, "degraded_percent": 80}})", "monitor.degraded_percent",
     "must not exceed healthy_percent"},
    {R"({"priority_rules": [{"event": "a", "priority": 4}]})", "priority_rules[0].priority",
     "between 0 and 3"},
    {R"({"priority_rules": [{"event": "a", "priority": -1}]})", "priority_rules[0].priority",
     "between 0 and 3"},
    {R"({"defaults": {"max_attempts": 0}})", "defaults.max_attempts", "positive integer"},
    {R"({"defaults": {"timeout_ms": 0}})", "defaults.timeout_ms", "positive integer"},
    {R"({"defaults": {"backoff": {"jitter": 1.5}}})", "defaults.backoff.jitter", "between 0 and 1"},
    {R"({"defaults": {"backoff": {"base_ms": 10, "max_ms": 5}}})", "defaults.backoff.max_ms",
     "must be at least base_ms"},
    {R"({"defaults": {"breaker": {"cooldown_ms": 10, "max_cooldown_ms": 5}}})",
     "defaults.breaker.max_cooldown_ms", "must be at least cooldown_ms"},
    {with_subscriber(R"("max_in_flight": 0)"), "subscribers[0].max_in_flight", "positive integer"},
    {with_subscriber(R"("timeout_ms": 0)"), "subscribers[0].timeout_ms", "positive integer"},
    {with_subscriber(R"("max_attempts": 0)"), "subscribers[0].max_attempts", "positive integer"},
    {with_subscriber(R"("rate_limit_per_s": -1)"), "subscribers[0].rate_limit_per_s", "at least 0"},
    {with_subscriber(R"("backoff": {"base_ms": 0})"), "subscribers[0].backoff.base_ms", "positive integer"},
    {R"({"defaults": {"breaker": {"failure_rate_percent": 101}}})", "defaults.breaker.failure_rate_percent",
     "between 0 and 100, got 101"},
    {with_subscriber(R"("breaker": {"min_requests": 0})"), "subscribers[0].breaker.min_requests",
     "positive integer"},
    {with_subscriber(R"("breaker": {"rate_window_ms": 0})"), "subscribers[0].breaker.rate_window_ms",
     "positive integer"},
    {R"({"defaults": {"concurrency": {"initial": 0}}})", "defaults.concurrency.initial",
     "must be a positive integer, got 0"},
    {R"({"defaults": {"concurrency": {"decrease_factor": 1}}})", "defaults.concurrency.decrease_factor",
     "between 0.1 and 0.9, got 1"},
    {with_subscriber(R"("concurrency": {"decrease_factor": 0})"),
     "subscribers[0].concurrency.decrease_factor", "between 0.1 and 0.9, got 0"},
    {with_subscriber(R"("concurrency": {"latency_ratio": 1.2})"), "subscribers[0].concurrency.latency_ratio",
     "must be 0 (latency ignored) or at least 1.5, got 1.2"},
    {with_subscriber(R"("concurrency": {"latency_ratio": -1})"), "subscribers[0].concurrency.latency_ratio",
     "between 0 and 100, got -1"},
    {R"({"defaults": {"concurrency": {"latency_ratio": 101}}})", "defaults.concurrency.latency_ratio",
     "between 0 and 100, got 101"},
    {R"({"defaults": {"disable_after_hours": 8761}})", "defaults.disable_after_hours",
     "between 0 and 8760, got 8761"},
    {with_subscriber(R"("disable_after_hours": -1)"), "subscribers[0].disable_after_hours",
     "between 0 and 8760, got -1"},
    // max_ms comes from the defaults (3600000): the key the subscriber set is named.
    {with_subscriber(R"("backoff": {"base_ms": 4000000})"), "subscribers[0].backoff.base_ms",
     "must be at least base_ms"},
  });
}

BOOST_AUTO_TEST_CASE(enumerations) {
  check_error_cases({
    {R"({"monitor": {"format": "xml"}})", "monitor.format", R"(must be one of "logfmt", "json", got "xml")"},
    {R"({"log_level": "verbose"})", "log_level", R"(got "verbose")"},
  });
}

BOOST_AUTO_TEST_CASE(priority_rules_need_event_and_priority) {
  check_error_cases({
    {R"({"priority_rules": [{"priority": 1}]})", "priority_rules[0].event", "is required"},
    {R"({"priority_rules": [{"event": "a"}]})", "priority_rules[0].priority", "is required"},
    {R"({"priority_rules": [{"event": "", "priority": 1}]})", "priority_rules[0].event", "non-empty"},
  });
}

BOOST_AUTO_TEST_CASE(subscriber_names) {
  check_error_cases({
    {R"({"subscribers": [{"url": "http://h.example/"}]})", "subscribers[0].name", "is required"},
    {R"({"subscribers": [{"name": "", "url": "http://h.example/"}]})", "subscribers[0].name", "non-empty"},
    {R"({"subscribers": [{"name": "bill ing", "url": "http://h.example/"}]})", "subscribers[0].name",
     "only letters, digits"},
    {R"({"subscribers": [{"name": "a/b", "url": "http://h.example/"}]})", "subscribers[0].name",
     "only letters, digits"},
    {R"({"subscribers": [{"name": "x", "url": "http://h.example/"},
                         {"name": "y", "url": "http://h.example/"},
                         {"name": "x", "url": "http://h.example/"}]})",
     "subscribers[2].name", "duplicate subscriber name 'x'"},
  });
}

BOOST_AUTO_TEST_CASE(subscriber_urls) {
  auto url_case = [](const std::string& url, const std::string& fragment) {
    return error_case{R"({"subscribers": [{"name": "a", "url": ")" + url + R"("}]})", "subscribers[0].url",
                      fragment};
  };
  check_error_cases({
    {R"({"subscribers": [{"name": "a"}]})", "subscribers[0].url", "is required"},
    {R"({"subscribers": [{"name": "a", "url": 5}]})", "subscribers[0].url", "must be a non-empty string"},
    url_case("", "non-empty"),
    url_case("ftp://h.example/x", "absolute http:// or https://"),
    url_case("file:///etc/passwd", "absolute http:// or https://"),
    url_case("h.example/hooks", "absolute http:// or https://"),
    url_case("/hooks", "absolute http:// or https://"),
    url_case("http://", "absolute http:// or https://"),
    url_case("http:///path", "absolute http:// or https://"),
    url_case("http://user:pw@h.example/", "user name or password"),
    url_case("http://h.example:99999/", "not a valid URL"),
    url_case("http://h.example/a b", "not a valid URL"),
    url_case("http://h.example:0/", "port 0"),
  });
  // Upper-case schemes, ports, IPv6 literals and query strings are fine.
  for (std::string url : {"HTTP://h.example", "https://h.example:8443/a/b?c=d", "http://[::1]:9000/x",
                          "http://127.0.0.1:9000/hooks/billing"}) {
    auto result = parse_config(R"({"subscribers": [{"name": "a", "url": ")" + url + R"("}]})");
    BOOST_TEST(result.value.has_value(), url << ": " << all_errors(result));
  }
}

BOOST_AUTO_TEST_CASE(subscriber_events) {
  check_error_cases({
    {with_subscriber(R"("events": "order.*")"), "subscribers[0].events", "must be an array"},
    {with_subscriber(R"("events": ["a", ""])"), "subscribers[0].events[1]", "must be a non-empty string"},
    {with_subscriber(R"("events": ["a", 3])"), "subscribers[0].events[1]", "must be a non-empty string"},
  });
}

BOOST_AUTO_TEST_CASE(subscriber_secrets) {
  check_error_cases({
    {with_subscriber(R"("secret": 1)"), "subscribers[0].secret", "must be a non-empty string"},
    {with_subscriber(R"("secret": "")"), "subscribers[0].secret", "must be a non-empty string"},
    {with_subscriber(R"("secret": "whsec_not*base64")"), "subscribers[0].secret", "valid base64"},
    {with_subscriber(R"("secret": "whsec_")"), "subscribers[0].secret", "key bytes"},
    {with_subscriber(R"("secrets": "abc")"), "subscribers[0].secrets", "must be an array"},
    {with_subscriber(R"("secrets": ["ok", "whsec_abcde"])"), "subscribers[0].secrets[1]", "valid base64"},
    {with_subscriber(R"("secret": "a", "secrets": ["b"])"), "subscribers[0].secrets", "not both"},
  });
}

BOOST_AUTO_TEST_CASE(no_cluster_key_is_a_single_node) {
  auto result = parse_config("{}");
  BOOST_REQUIRE(result.value.has_value());
  BOOST_TEST(!result.value->cluster.has_value());
}

BOOST_AUTO_TEST_CASE(the_cluster_section_as_the_design_names_it) {
  auto result = parse_config(R"({"cluster": {
    "brokers": "10.0.0.5:9092,10.0.0.6:9092", "group": "volley", "events_topic": "volley.events",
    "changelog_topic": "volley.changelog", "node": "node-a",
    "kafka": {"security.protocol": "ssl", "linger.ms": 10, "socket.keepalive.enable": true}}})");
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), all_errors(result));
  const auto& c = *result.value->cluster;
  BOOST_TEST(c.brokers == "10.0.0.5:9092,10.0.0.6:9092");
  BOOST_TEST(c.node == "node-a");
  BOOST_REQUIRE_EQUAL(c.kafka.size(), 3u);
  BOOST_TEST(c.kafka[1].first == "linger.ms");
  BOOST_TEST(c.kafka[1].second == "10");
  BOOST_TEST(c.kafka[2].second == "true");
  auto defaults = parse_config(R"({"cluster": {"brokers": "127.0.0.1:9092"}})");
  BOOST_REQUIRE(defaults.value.has_value());
  BOOST_TEST(defaults.value->cluster->group == "volley");
  BOOST_TEST(defaults.value->cluster->events_topic == "volley.events");
  BOOST_TEST(defaults.value->cluster->changelog_topic == "volley.changelog");
  BOOST_TEST(defaults.value->cluster->node.empty()); // hostname:pid at start
}

BOOST_AUTO_TEST_CASE(cluster_errors_name_the_key) {
  check_error_cases({
    {R"({"cluster": {}})", "cluster.brokers", "is required"},
    {R"({"cluster": {"brokers": ""}})", "cluster.brokers", "non-empty"},
    {R"({"cluster": {"brokers": "b:1", "events_topic": "t", "changelog_topic": "t"}})",
     "cluster.changelog_topic", "must differ"},
    {R"({"cluster": {"brokers": "b:1", "kafka": {"linger.ms": [1]}}})", "cluster.kafka.linger.ms",
     "string, number or boolean"},
    {R"({"cluster": {"brokers": "b:1", "replicas": 3}})", "cluster.replicas", "unknown key"},
    {R"({"cluster": "b:1"})", "cluster", "must be an object"},
  });
}

BOOST_AUTO_TEST_CASE(port_zero_asks_for_any_free_port) {
  auto result = parse_config(R"({"ingress": {"port": 0}})");
  BOOST_REQUIRE(result.value.has_value());
  BOOST_TEST(result.value->ingress.port == 0);
}

BOOST_AUTO_TEST_CASE(the_api_listens_only_when_configured) {
  auto none = parse_config("{}");
  BOOST_REQUIRE(none.value.has_value());
  BOOST_TEST(!none.value->api.enabled);

  auto empty = parse_config(R"({"api": {}})");
  BOOST_REQUIRE(empty.value.has_value());
  const auto& d = empty.value->api;
  BOOST_TEST(d.enabled);
  BOOST_TEST(d.host == "127.0.0.1");
  BOOST_TEST(d.port == 7401);
  BOOST_TEST(d.token.empty());
  BOOST_TEST(d.max_body_bytes == 10u * 1024 * 1024);

  auto set = parse_config(R"({"api": {"host": "0.0.0.0", "port": 0, "token": "t0k",
    "max_body_bytes": 2048, "max_header_bytes": 4096, "header_timeout_ms": 100,
    "body_timeout_ms": 200, "idle_timeout_ms": 300, "write_timeout_ms": 400,
    "max_connections": 5, "max_pipelined": 2, "threads": 3}})");
  BOOST_REQUIRE_MESSAGE(set.value.has_value(), all_errors(set));
  const auto& a = set.value->api;
  BOOST_TEST(a.host == "0.0.0.0");
  BOOST_TEST(a.port == 0);
  BOOST_TEST(a.token == "t0k");
  BOOST_TEST(a.max_body_bytes == 2048u);
  BOOST_TEST(a.max_header_bytes == 4096u);
  BOOST_TEST(a.header_timeout_ms == 100u);
  BOOST_TEST(a.body_timeout_ms == 200u);
  BOOST_TEST(a.idle_timeout_ms == 300u);
  BOOST_TEST(a.write_timeout_ms == 400u);
  BOOST_TEST(a.max_connections == 5u);
  BOOST_TEST(a.max_pipelined == 2u);
  BOOST_TEST(a.threads == 3u);
}

BOOST_AUTO_TEST_CASE(api_errors_name_the_key) {
  check_error_cases({
    {R"({"api": []})", "api", "must be an object"},
    {R"({"api": {"port": 70000}})", "api.port", "between 0 and 65535"},
    {R"({"api": {"host": ""}})", "api.host", "non-empty string"},
    {R"({"api": {"token": 5}})", "api.token", "must be a string"},
    {R"({"api": {"max_body_bytes": 0}})", "api.max_body_bytes", "between 1 and 1073741824"},
    {R"({"api": {"max_header_bytes": 100}})", "api.max_header_bytes", "between 1024 and"},
    {R"({"api": {"header_timeout_ms": 0}})", "api.header_timeout_ms", "positive integer"},
    {R"({"api": {"threads": 0}})", "api.threads", "between 1 and 64"},
    {R"({"api": {"max_pipelined": 5000}})", "api.max_pipelined", "between 1 and 1024"},
    {R"({"api": {"tokn": ""}})", "api.tokn", "unknown key"},
  });
}

BOOST_AUTO_TEST_CASE(a_subscriber_name_is_at_most_200_characters) {
  auto ok = parse_config(R"({"subscribers": [{"name": ")" + std::string(200, 'n') +
                         R"(", "url": "http://h.example/"}]})");
  BOOST_TEST(ok.value.has_value(), all_errors(ok));
  auto long_name = parse_config(R"({"subscribers": [{"name": ")" + std::string(201, 'n') +
                                R"(", "url": "http://h.example/"}]})");
  BOOST_TEST(has_error(long_name, "subscribers[0].name", "at most 200 characters, got 201"),
             all_errors(long_name));
}

BOOST_AUTO_TEST_CASE(every_error_is_reported) {
  auto result = parse_config(R"({
    "ingress": {"port": 70000, "colour": "blue"},
    "monitor": {"format": "xml"},
    "subscribers": [
      {"name": "ok", "url": "https://a.example/"},
      {"name": "bad name", "url": "gopher://b.example/", "backoff": {"base_ms": -1}},
      {"name": "ok", "url": "https://c.example/", "secret": "whsec_!!"}
    ]
  })");
  BOOST_TEST(!result.value.has_value());
  BOOST_TEST(has_error(result, "ingress.port", "between 0 and 65535"));
  BOOST_TEST(has_error(result, "ingress.colour", "unknown key"));
  BOOST_TEST(has_error(result, "monitor.format", "must be one of"));
  BOOST_TEST(has_error(result, "subscribers[1].name", "only letters"));
  BOOST_TEST(has_error(result, "subscribers[1].url", "http://"));
  BOOST_TEST(has_error(result, "subscribers[1].backoff.base_ms", "positive integer"));
  BOOST_TEST(has_error(result, "subscribers[2].name", "duplicate subscriber name 'ok'"));
  BOOST_TEST(has_error(result, "subscribers[2].secret", "base64"));
  BOOST_TEST(result.errors.size() == 8u, all_errors(result));
}

BOOST_AUTO_TEST_SUITE_END()

// One subscriber object on its own (the HTTP API's): the file's checks and
// messages, the field named without the file's path.
BOOST_AUTO_TEST_SUITE(one_subscriber)

BOOST_AUTO_TEST_CASE(inherits_the_defaults_it_is_given) {
  delivery_defaults defaults;
  defaults.max_attempts = 3;
  defaults.backoff.base_ms = 7;
  auto result = parse_subscriber_config(
    R"({"name": "rt", "url": "http://h.example/x", "events": ["a.*"], "secret": "s",
        "backoff": {"max_ms": 100}})",
    defaults);
  BOOST_REQUIRE_MESSAGE(result.value.has_value(), format_config_errors(result.errors));
  BOOST_TEST(result.value->name == "rt");
  BOOST_TEST(result.value->max_attempts == 3u);
  BOOST_TEST(result.value->backoff.base_ms == 7u);
  BOOST_TEST(result.value->backoff.max_ms == 100u);
  BOOST_TEST(result.value->secrets == std::vector<std::string>{"s"});
}

BOOST_AUTO_TEST_CASE(errors_are_the_files_with_the_field_named) {
  // Every subscriber error of the file, checked on the object alone.
  const std::vector<std::string> objects = {
    R"({"url": "http://h.example/"})",
    R"({"name": "bad name", "url": "http://h.example/"})",
    R"({"name": "a", "url": "gopher://h.example/"})",
    R"({"name": "a", "url": "http://u:p@h.example/"})",
    R"({"name": "a", "url": "http://h.example/", "secret": "whsec_!!"})",
    R"({"name": "a", "url": "http://h.example/", "backoff": {"base_ms": 0}})",
    R"({"name": "a", "url": "http://h.example/", "retries": 3})",
    R"({"name": "a", "url": "http://h.example/", "events": [""]})",
  };
  for (const auto& object : objects) {
    auto alone = parse_subscriber_config(object, delivery_defaults{});
    auto in_file = parse_config(R"({"subscribers": [)" + object + "]}");
    BOOST_TEST_CONTEXT(object) {
      BOOST_TEST(!alone.value.has_value());
      BOOST_REQUIRE(alone.errors.size() == in_file.errors.size());
      for (size_t i = 0; i < alone.errors.size(); ++i) {
        BOOST_TEST("subscribers[0]." + alone.errors[i].key == in_file.errors[i].key);
        BOOST_TEST(alone.errors[i].message == in_file.errors[i].message);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_path_prefixes_the_keys_and_bad_json_says_where) {
  auto prefixed = parse_subscriber_config(R"({"name": "a"})", delivery_defaults{}, "subscriber");
  BOOST_TEST(prefixed.errors.size() == 1u);
  BOOST_TEST(prefixed.errors[0].key == "subscriber.url");
  auto broken = parse_subscriber_config("{\"name\": ", delivery_defaults{});
  BOOST_REQUIRE(broken.errors.size() == 1u);
  BOOST_TEST(broken.errors[0].message.find("invalid JSON at line 1, column 10 (offset 9)") == 0u,
             broken.errors[0].message);
  auto not_object = parse_subscriber_config("[1]", delivery_defaults{});
  BOOST_REQUIRE(not_object.errors.size() == 1u);
  BOOST_TEST(not_object.errors[0].message == "must be an object, got an array");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(missing_file_names_path_and_reason) {
  std::string path = source_dir() + "/no-such-dir/volley.json";
  auto result = load_config_file(path);
  BOOST_TEST(!result.value.has_value());
  BOOST_REQUIRE(result.errors.size() == 1u);
  BOOST_TEST(result.errors[0].key == "");
  BOOST_TEST(result.errors[0].message.find(path) != std::string::npos);
  BOOST_TEST(result.errors[0].message.find("No such file or directory") != std::string::npos,
             result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(directory_is_unreadable) {
  auto result = load_config_file(source_dir());
  BOOST_TEST(!result.value.has_value());
  BOOST_REQUIRE(result.errors.size() == 1u);
  BOOST_TEST(result.errors[0].message.find("Is a directory") != std::string::npos, result.errors[0].message);
}

BOOST_AUTO_TEST_CASE(format_one_line_per_error) {
  std::vector<config_error> errors{{"ingress.port", "must be a positive integer"}, {"", "invalid JSON"}};
  BOOST_TEST(format_config_errors(errors) == "config error: ingress.port: must be a positive integer\n"
                                             "config error: invalid JSON\n");
  BOOST_TEST(format_config_errors({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
