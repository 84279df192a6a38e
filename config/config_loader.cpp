#include "config/config_loader.hpp"

#include "signing/legacy_signature_header.hpp"
#include "signing/signature.hpp"

#include <curl/curl.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

namespace volley {

namespace {

constexpr uint64_t max_dedup_window_s = 365 * 24 * 3600;
constexpr uint32_t max_disable_after_hours = 365 * 24;
constexpr double min_latency_ratio = 1.5;

using json = rapidjson::Value;
using error_list = std::vector<config_error>;

// What a value is, for "..., got <this>" in messages.
std::string describe(const json& value) {
  if (value.IsNull())
    return "null";
  if (value.IsBool())
    return value.GetBool() ? "true" : "false";
  if (value.IsUint64())
    return std::to_string(value.GetUint64());
  if (value.IsInt64())
    return std::to_string(value.GetInt64());
  if (value.IsNumber()) {
    std::ostringstream out;
    out << value.GetDouble();
    return out.str();
  }
  if (value.IsString())
    return "a string";
  if (value.IsArray())
    return "an array";
  return "an object";
}

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// The requirement an integer range expresses, in words. A small type's own
// limit (a port's 65535) is worth stating; 2^32-1 is not.
std::string integer_rule(uint64_t min, uint64_t max, uint64_t type_max) {
  if (max == type_max && type_max >= std::numeric_limits<uint32_t>::max()) {
    if (min == 0)
      return "must be a non-negative integer";
    if (min == 1)
      return "must be a positive integer";
    return "must be an integer of at least " + std::to_string(min);
  }
  return "must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
}

// Reads the members of one JSON object. Every key asked for is remembered,
// so whatever is left over at the end is an unknown key (a typo, usually).
class object_reader {
public:
  object_reader(const json& object, std::string path, error_list& errors)
    : object_(object), path_(std::move(path)), errors_(errors) {
    // RapidJSON keeps duplicate members; the first one would win silently.
    std::set<std::string> seen;
    for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      if (!seen.insert(key).second)
        error(key, "duplicate key; each key may appear only once");
    }
  }

  // Unknown keys are reported when the reader goes out of scope, after every
  // known key has been asked for.
  ~object_reader() { report_unknown_keys(); }

  object_reader(const object_reader&) = delete;
  object_reader& operator=(const object_reader&) = delete;

  std::string path_of(std::string_view key) const {
    std::string out = path_;
    if (!out.empty())
      out += '.';
    out += key;
    return out;
  }

  void error(std::string_view key, std::string message) {
    errors_.push_back({path_of(key), std::move(message)});
  }

  // The member `key`, or nullptr when absent. Marks `key` as known.
  const json* find(const char* key) {
    known_.push_back(key);
    auto it = object_.FindMember(key);
    return it == object_.MemberEnd() ? nullptr : &it->value;
  }

  bool has(const char* key) const { return object_.HasMember(key); }

  // Each reader leaves `out` untouched when the key is absent or invalid.

  void read_string(const char* key, std::string& out, bool allow_empty = false) {
    auto value = find(key);
    if (!value)
      return;
    if (!value->IsString()) {
      error(key,
            (allow_empty ? "must be a string, got " : "must be a non-empty string, got ") + describe(*value));
      return;
    }
    if (!allow_empty && value->GetStringLength() == 0) {
      error(key, "must be a non-empty string");
      return;
    }
    out.assign(value->GetString(), value->GetStringLength());
  }

  void read_choice(const char* key, std::string& out, std::initializer_list<const char*> choices) {
    auto value = find(key);
    if (!value)
      return;
    std::string rule = "must be one of";
    const char* separator = " ";
    for (auto choice : choices) {
      rule += separator + ('"' + std::string(choice) + '"');
      separator = ", ";
    }
    if (!value->IsString()) {
      error(key, rule + ", got " + describe(*value));
      return;
    }
    std::string text(value->GetString(), value->GetStringLength());
    for (auto choice : choices) {
      if (text == choice) {
        out = text;
        return;
      }
    }
    error(key, rule + ", got \"" + text + '"');
  }

  void read_bool(const char* key, bool& out) {
    auto value = find(key);
    if (!value)
      return;
    if (!value->IsBool()) {
      error(key, "must be a boolean (true or false), got " + describe(*value));
      return;
    }
    out = value->GetBool();
  }

  template <class T>
  void read_integer(const char* key, T& out, uint64_t min = 1, uint64_t max = std::numeric_limits<T>::max()) {
    auto value = find(key);
    if (!value)
      return;
    uint64_t type_max = std::numeric_limits<T>::max();
    if (!value->IsUint64() || value->GetUint64() < min || value->GetUint64() > max) {
      error(key, integer_rule(min, max, type_max) + ", got " + describe(*value));
      return;
    }
    out = static_cast<T>(value->GetUint64());
  }

  void read_number(const char* key, double& out, double min, double max) {
    auto value = find(key);
    if (!value)
      return;
    if (!value->IsNumber() || value->GetDouble() < min || value->GetDouble() > max) {
      std::string rule = max == std::numeric_limits<double>::max()
                           ? "must be a number of at least " + format_number(min)
                           : "must be a number between " + format_number(min) + " and " + format_number(max);
      error(key, rule + ", got " + describe(*value));
      return;
    }
    out = value->GetDouble();
  }

  // An object member for a nested reader; nullptr when absent or not an object.
  const json* find_object(const char* key) {
    auto value = find(key);
    if (value && !value->IsObject()) {
      error(key, "must be an object, got " + describe(*value));
      return nullptr;
    }
    return value;
  }

  // An array member; nullptr when absent or not an array.
  const json* find_array(const char* key, const char* of_what) {
    auto value = find(key);
    if (value && !value->IsArray()) {
      error(key, std::string("must be an array of ") + of_what + ", got " + describe(*value));
      return nullptr;
    }
    return value;
  }

private:
  void report_unknown_keys() {
    for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
      std::string_view key(it->name.GetString(), it->name.GetStringLength());
      bool is_known = false;
      for (auto known : known_)
        is_known = is_known || key == known;
      if (is_known)
        continue;
      std::string message = "unknown key; expected one of: ";
      for (size_t i = 0; i < known_.size(); ++i)
        message += (i == 0 ? "" : ", ") + std::string(known_[i]);
      error(key, std::move(message));
    }
  }

  const json& object_;
  std::string path_;
  error_list& errors_;
  std::vector<const char*> known_;
};

std::string index_path(const std::string& array_path, size_t index) {
  return array_path + '[' + std::to_string(index) + ']';
}

// Checks a URL the HTTP engine will be handed: absolute, http(s), with a host,
// and no credentials (those belong in the secret, not in logs and the DLQ).
std::optional<std::string> url_problem(const std::string& url) {
  auto starts_with_ci = [&](std::string_view prefix) {
    if (url.size() <= prefix.size())
      return false;
    for (size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i])
        return false;
    // libcurl tolerates "http:///host"; an operator almost surely mistyped.
    return url[prefix.size()] != '/';
  };
  if (!starts_with_ci("http://") && !starts_with_ci("https://"))
    return "must be an absolute http:// or https:// URL with a host, got \"" + url + '"';
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), &curl_url_cleanup);
  if (!handle)
    return std::string("could not be checked: out of memory");
  auto rc = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc != CURLUE_OK)
    return "is not a valid URL (" + std::string(curl_url_strerror(rc)) + "): \"" + url + '"';
  auto get_part = [&](CURLUPart part) -> std::optional<std::string> {
    char* text = nullptr;
    if (curl_url_get(handle.get(), part, &text, 0) != CURLUE_OK || text == nullptr)
      return std::nullopt;
    std::string out(text);
    curl_free(text);
    return out;
  };
  auto host = get_part(CURLUPART_HOST);
  if (!host || host->empty())
    return "has no host: \"" + url + '"';
  if (get_part(CURLUPART_USER) || get_part(CURLUPART_PASSWORD))
    return std::string("must not contain a user name or password; "
                       "authenticate receivers with the subscriber's secret");
  if (auto port = get_part(CURLUPART_PORT); port && *port == "0")
    return "has port 0: \"" + url + '"';
  return std::nullopt;
}

// Why `path` cannot serve as a CA file, if it cannot: libcurl would only
// say so at the first delivery, as a failed handshake.
std::optional<std::string> ca_file_problem(const std::string& path) {
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file)
    return "cannot read \"" + path + "\": " + std::strerror(errno) +
           "; give the path of a PEM file with the CA certificates to trust";
  std::string head(64 * 1024, '\0');
  errno = 0;
  head.resize(std::fread(head.data(), 1, head.size(), file.get()));
  if (std::ferror(file.get())) // a directory opens, then fails to read
    return "cannot read \"" + path + "\": " + std::strerror(errno != 0 ? errno : EIO) +
           "; give the path of a PEM file with the CA certificates to trust";
  if (head.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return "\"" + path +
           "\" holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" "
           "line); give the CA certificates in PEM form";
  return std::nullopt;
}

bool valid_name(const std::string& name) {
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

class config_parser {
public:
  explicit config_parser(error_list& errors) : errors_(errors) {}

  // One entry of "subscribers" (or an API's subscriber object) at `path`.
  subscriber_config parse_one_subscriber(const json& value, const std::string& path,
                                         const delivery_defaults& defaults) {
    return parse_subscriber(value, path, defaults);
  }

  void parse(const json& root, config& cfg) {
    object_reader top(root, "", errors_);
    if (auto v = top.find_object("ingress"))
      parse_ingress(*v, cfg.ingress);
    if (auto v = top.find_object("api"))
      parse_api(*v, cfg.api);
    if (auto v = top.find_object("storage"))
      parse_storage(*v, cfg.storage);
    if (auto v = top.find_object("monitor"))
      parse_monitor(*v, cfg.monitor);
    if (auto v = top.find_object("queue"))
      parse_queue(*v, cfg.queue);
    if (auto v = top.find_object("http"))
      parse_http(*v, cfg.http);
    if (auto v = top.find_object("log"))
      parse_log(*v, cfg.log);
    if (auto v = top.find_object("cluster"))
      parse_cluster(*v, cfg.cluster.emplace());
    if (auto v = top.find_object("scheduler"))
      parse_scheduler(*v, cfg.scheduler);
    if (cfg.scheduler.threads == 0)
      cfg.scheduler.threads = std::max(2u, std::thread::hardware_concurrency());
    if (cfg.http.threads == 0)
      cfg.http.threads = std::max(1u, std::thread::hardware_concurrency());
    top.read_bool("allow_private_networks", cfg.allow_private_networks);
    top.read_choice("log_level", cfg.log_level, {"debug", "info", "warn", "error"});
    // Defaults first: every subscriber starts from them.
    if (auto v = top.find_object("defaults"))
      parse_defaults(*v, cfg.defaults);
    if (auto v = top.find_array("priority_rules", "objects"))
      parse_priority_rules(*v, cfg.priority_rules);
    if (auto v = top.find_array("subscribers", "subscriber objects"))
      parse_subscribers(*v, cfg.defaults, cfg.subscribers);
    for (auto& sub : cfg.subscribers)
      if (sub.tls_ca_file.empty())
        sub.tls_ca_file = cfg.http.tls_ca_file;
  }

private:
  void error(std::string key, std::string message) {
    errors_.push_back({std::move(key), std::move(message)});
  }

  void parse_ingress(const json& value, ingress_config& out) {
    object_reader r(value, "ingress", errors_);
    r.read_string("host", out.host);
    r.read_integer("port", out.port, 0, 65535); // 0: any free port, logged at start
    r.read_integer("max_line_bytes", out.max_line_bytes);
    r.read_integer("max_unacked", out.max_unacked);
    r.read_integer("max_connections", out.max_connections);
    r.read_string("token", out.token, true);
    r.read_integer("idle_timeout_ms", out.idle_timeout_ms, 0); // 0: never
  }

  void parse_api(const json& value, api_config& out) {
    object_reader r(value, "api", errors_);
    out.enabled = true;
    r.read_string("host", out.host);
    r.read_integer("port", out.port, 0, 65535); // 0: any free port, logged at start
    r.read_string("token", out.token, true);
    r.read_integer("max_body_bytes", out.max_body_bytes, 1, uint64_t{1} << 30);
    r.read_integer("max_header_bytes", out.max_header_bytes, 1024, 1 << 20);
    r.read_integer("header_timeout_ms", out.header_timeout_ms);
    r.read_integer("body_timeout_ms", out.body_timeout_ms);
    r.read_integer("idle_timeout_ms", out.idle_timeout_ms);
    r.read_integer("write_timeout_ms", out.write_timeout_ms);
    r.read_integer("max_connections", out.max_connections);
    r.read_integer("max_pipelined", out.max_pipelined, 1, 1024);
    r.read_integer("threads", out.threads, 1, 64);
  }

  void parse_storage(const json& value, storage_config& out) {
    object_reader r(value, "storage", errors_);
    r.read_string("path", out.path);
    r.read_integer("map_size_mb", out.map_size_mb);
    r.read_integer("batch_max", out.batch_max);
    // Acks wait for the commit: more than a second would stall every client.
    r.read_integer("batch_interval_ms", out.batch_interval_ms, 0, 1000);
    r.read_integer("outcome_interval_ms", out.outcome_interval_ms, 0, 1000);
  }

  void parse_log(const json& value, log_config& out) {
    object_reader r(value, "log", errors_);
    // 0: no delivery log. At most ten years: times are kept in milliseconds.
    r.read_integer("retention_hours", out.retention_hours, 0, 87600);
    r.read_integer("max_mb", out.max_mb, 1, 1u << 20);
  }

  void parse_monitor(const json& value, monitor_config& out) {
    object_reader r(value, "monitor", errors_);
    r.read_integer("snapshot_interval_ms", out.snapshot_interval_ms, 0); // 0: never
    r.read_integer("interval_ms", out.interval_ms);
    r.read_integer("window_s", out.window_s);
    r.read_number("healthy_percent", out.healthy_percent, 0, 100);
    r.read_number("degraded_percent", out.degraded_percent, 0, 100);
    r.read_choice("format", out.format, {"logfmt", "json"});
    r.read_integer("slow_ms", out.slow_ms);
    if (out.degraded_percent > out.healthy_percent)
      r.error(r.has("degraded_percent") ? "degraded_percent" : "healthy_percent",
              "degraded_percent (" + format_number(out.degraded_percent) +
                ") must not exceed healthy_percent (" + format_number(out.healthy_percent) + ")");
  }

  void parse_queue(const json& value, queue_config& out) {
    object_reader r(value, "queue", errors_);
    r.read_integer("memory_limit", out.memory_limit);
    // At most 1 TiB: past that the figure is surely a typo for bytes.
    r.read_integer("memory_mb", out.memory_mb, 0, uint64_t{1} << 20);
    // 0: no dedup window. At most a year: the window is kept in milliseconds
    // and every id in it is remembered on disk and in memory.
    r.read_integer("dedup_window_s", out.dedup_window_s, 0, max_dedup_window_s);
    r.read_integer("dedup_max_ids", out.dedup_max_ids);
  }

  void parse_scheduler(const json& value, scheduler_config& out) {
    object_reader r(value, "scheduler", errors_);
    r.read_integer("threads", out.threads, 0); // 0: one per core
    r.read_choice("policy", out.policy, {"sharing", "stealing"});
  }

  void parse_cluster(const json& value, cluster_config& out) {
    object_reader r(value, "cluster", errors_);
    if (!r.has("brokers"))
      r.error("brokers", "is required (the Kafka bootstrap servers, \"host:port,host:port\")");
    r.read_string("brokers", out.brokers);
    r.read_string("group", out.group);
    r.read_string("events_topic", out.events_topic);
    r.read_string("changelog_topic", out.changelog_topic);
    r.read_string("node", out.node);
    if (out.events_topic == out.changelog_topic)
      r.error("changelog_topic", "must differ from events_topic (\"" + out.events_topic + "\")");
    if (auto kafka = r.find_object("kafka")) {
      // librdkafka properties: strings, or numbers and booleans written as
      // librdkafka would read them. Whether librdkafka takes them is checked
      // at start (and by --check-config), naming the property.
      for (auto it = kafka->MemberBegin(); it != kafka->MemberEnd(); ++it) {
        std::string name{it->name.GetString(), it->name.GetStringLength()};
        const auto& v = it->value;
        std::string text;
        if (v.IsString())
          text.assign(v.GetString(), v.GetStringLength());
        else if (v.IsBool())
          text = v.GetBool() ? "true" : "false";
        else if (v.IsInt64())
          text = std::to_string(v.GetInt64());
        else if (v.IsUint64())
          text = std::to_string(v.GetUint64());
        else if (v.IsNumber())
          text = format_number(v.GetDouble());
        else {
          error("cluster.kafka." + name, "must be a string, number or boolean (a librdkafka "
                                         "property value), got " +
                                           describe(v));
          continue;
        }
        out.kafka.emplace_back(std::move(name), std::move(text));
      }
    }
  }

  void parse_http(const json& value, http_config& out) {
    object_reader r(value, "http", errors_);
    r.read_integer("max_concurrent", out.max_concurrent);
    r.read_integer("threads", out.threads, 0, 64); // 0: one per core
    read_ca_file(r, out.tls_ca_file);
  }

  void read_ca_file(object_reader& r, std::string& out) {
    r.read_string("tls_ca_file", out);
    if (!out.empty() && r.has("tls_ca_file"))
      if (auto problem = ca_file_problem(out))
        r.error("tls_ca_file", *problem);
  }

  // Reads only the keys present, so a subscriber may override part of the
  // defaults' backoff.
  void parse_backoff(const json& value, const std::string& path, backoff_config& out) {
    object_reader r(value, path, errors_);
    r.read_integer("base_ms", out.base_ms);
    r.read_integer("max_ms", out.max_ms);
    r.read_number("jitter", out.jitter, 0, 1);
    // Name the key this object set: the other may come from "defaults".
    if (out.max_ms < out.base_ms)
      r.error(r.has("max_ms") ? "max_ms" : "base_ms", "max_ms (" + std::to_string(out.max_ms) +
                                                        ") must be at least base_ms (" +
                                                        std::to_string(out.base_ms) + ")");
  }

  void parse_breaker(const json& value, const std::string& path, breaker_config& out) {
    object_reader r(value, path, errors_);
    r.read_integer("failure_threshold", out.failure_threshold);
    r.read_integer("cooldown_ms", out.cooldown_ms);
    r.read_integer("max_cooldown_ms", out.max_cooldown_ms);
    r.read_number("failure_rate_percent", out.failure_rate_percent, 0, 100);
    r.read_integer("min_requests", out.min_requests);
    r.read_integer("rate_window_ms", out.rate_window_ms);
    if (out.max_cooldown_ms < out.cooldown_ms)
      r.error(r.has("max_cooldown_ms") ? "max_cooldown_ms" : "cooldown_ms",
              "max_cooldown_ms (" + std::to_string(out.max_cooldown_ms) + ") must be at least cooldown_ms (" +
                std::to_string(out.cooldown_ms) + ")");
  }

  void parse_concurrency(const json& value, const std::string& path, concurrency_config& out) {
    object_reader r(value, path, errors_);
    r.read_bool("adaptive", out.adaptive);
    r.read_integer("initial", out.initial);
    r.read_number("decrease_factor", out.decrease_factor, 0.1, 0.9);
    r.read_number("latency_ratio", out.latency_ratio, 0, 100);
    // Closer to 1, ordinary jitter would read as overload.
    if (r.has("latency_ratio") && out.latency_ratio > 0 && out.latency_ratio < min_latency_ratio)
      r.error("latency_ratio", "must be 0 (latency ignored) or at least " + format_number(min_latency_ratio) +
                                 ", got " + format_number(out.latency_ratio));
  }

  void parse_defaults(const json& value, delivery_defaults& out) {
    object_reader r(value, "defaults", errors_);
    r.read_integer("max_attempts", out.max_attempts);
    r.read_integer("timeout_ms", out.timeout_ms);
    r.read_integer("max_in_flight", out.max_in_flight);
    if (auto v = r.find_object("backoff"))
      parse_backoff(*v, "defaults.backoff", out.backoff);
    if (auto v = r.find_object("breaker"))
      parse_breaker(*v, "defaults.breaker", out.breaker);
    if (auto v = r.find_object("concurrency"))
      parse_concurrency(*v, "defaults.concurrency", out.concurrency);
    r.read_integer("disable_after_hours", out.disable_after_hours, 0, max_disable_after_hours);
  }

  void parse_priority_rules(const json& array, std::vector<priority_rule>& out) {
    for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
      auto path = index_path("priority_rules", i);
      const auto& item = array[i];
      if (!item.IsObject()) {
        error(path,
              "must be an object like {\"event\": \"payment.*\", \"priority\": 3}, got " + describe(item));
        continue;
      }
      object_reader r(item, path, errors_);
      priority_rule rule;
      if (!r.has("event"))
        r.error("event", "is required (an event type or pattern)");
      if (!r.has("priority"))
        r.error("priority", "is required (0 normal ... 3 critical)");
      r.read_string("event", rule.event);
      r.read_integer("priority", rule.priority, 0, 3);
      out.push_back(std::move(rule));
    }
  }

  void parse_subscribers(const json& array, const delivery_defaults& defaults,
                         std::vector<subscriber_config>& out) {
    for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
      auto path = index_path("subscribers", i);
      const auto& item = array[i];
      if (!item.IsObject()) {
        error(path, "must be an object, got " + describe(item));
        continue;
      }
      out.push_back(parse_subscriber(item, path, defaults));
    }
    // Names key the subscriber's deliveries on disk and in the monitor log.
    for (size_t i = 0; i < out.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (!out[i].name.empty() && out[i].name == out[j].name) {
          error(name_paths_[i],
                "duplicate subscriber name '" + out[i].name + "' (also used by " + name_paths_[j] + ")");
          break;
        }
      }
    }
  }

  subscriber_config parse_subscriber(const json& value, const std::string& path,
                                     const delivery_defaults& defaults) {
    object_reader r(value, path, errors_);
    subscriber_config sub;
    sub.max_attempts = defaults.max_attempts;
    sub.timeout_ms = defaults.timeout_ms;
    sub.max_in_flight = defaults.max_in_flight;
    sub.backoff = defaults.backoff;
    sub.breaker = defaults.breaker;
    sub.concurrency = defaults.concurrency;
    sub.disable_after_hours = defaults.disable_after_hours;

    name_paths_.push_back(r.path_of("name"));
    if (!r.has("name"))
      r.error("name", "is required");
    r.read_string("name", sub.name);
    if (!sub.name.empty() && !valid_name(sub.name)) {
      r.error("name", "must contain only letters, digits, '.', '_' and '-', got \"" + sub.name + '"');
    } else if (sub.name.size() > max_subscriber_name_bytes) {
      r.error("name", "must be at most " + std::to_string(max_subscriber_name_bytes) + " characters, got " +
                        std::to_string(sub.name.size()));
    }

    if (!r.has("url"))
      r.error("url", "is required (the http:// or https:// endpoint to POST to)");
    r.read_string("url", sub.url);
    if (!sub.url.empty()) {
      if (auto problem = url_problem(sub.url))
        r.error("url", *problem);
    }

    if (auto events = r.find_array("events", "event type strings (\"*\" allowed)"))
      sub.events = read_string_array(*events, r.path_of("events"), "an event type or pattern");

    bool has_secret = r.has("secret");
    bool has_secrets = r.has("secrets");
    if (has_secret && has_secrets)
      r.error("secrets", "set either \"secret\" or \"secrets\" (for rotation), not both");
    if (auto secret = r.find("secret")) {
      if (check_secret(*secret, r.path_of("secret")))
        sub.secrets.emplace_back(secret->GetString(), secret->GetStringLength());
    }
    if (auto secrets = r.find_array("secrets", "secret strings")) {
      for (rapidjson::SizeType i = 0; i < secrets->Size(); ++i) {
        const auto& item = (*secrets)[i];
        if (check_secret(item, index_path(r.path_of("secrets"), i)))
          sub.secrets.emplace_back(item.GetString(), item.GetStringLength());
      }
    }
    if (has_secret && has_secrets)
      sub.secrets.clear();

    r.read_integer("max_attempts", sub.max_attempts);
    r.read_integer("timeout_ms", sub.timeout_ms);
    r.read_integer("max_in_flight", sub.max_in_flight);
    r.read_number("rate_limit_per_s", sub.rate_limit_per_s, 0, std::numeric_limits<double>::max());
    if (auto v = r.find_object("backoff"))
      parse_backoff(*v, r.path_of("backoff"), sub.backoff);
    if (auto v = r.find_object("breaker"))
      parse_breaker(*v, r.path_of("breaker"), sub.breaker);
    if (auto v = r.find_object("concurrency"))
      parse_concurrency(*v, r.path_of("concurrency"), sub.concurrency);
    r.read_integer("disable_after_hours", sub.disable_after_hours, 0, max_disable_after_hours);
    r.read_bool("tls_insecure", sub.tls_insecure);
    read_ca_file(r, sub.tls_ca_file);
    r.read_bool("enabled", sub.enabled);
    r.read_string("legacy_signature_header", sub.legacy_signature_header);
    if (r.has("legacy_signature_header"))
      if (auto problem = signature_header_problem(sub.legacy_signature_header))
        r.error("legacy_signature_header", *problem);
    return sub;
  }

  std::vector<std::string> read_string_array(const json& array, const std::string& path, const char* what) {
    std::vector<std::string> out;
    for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
      const auto& item = array[i];
      if (!item.IsString() || item.GetStringLength() == 0) {
        error(index_path(path, i), std::string("must be a non-empty string (") + what + "), got " +
                                     (item.IsString() ? "an empty string" : describe(item)));
        continue;
      }
      out.emplace_back(item.GetString(), item.GetStringLength());
    }
    return out;
  }

  // True when `value` is a usable secret; reports why not otherwise.
  bool check_secret(const json& value, const std::string& path) {
    if (!value.IsString() || value.GetStringLength() == 0) {
      error(path, "must be a non-empty string, got " +
                    (value.IsString() ? std::string("an empty string") : describe(value)));
      return false;
    }
    std::string_view secret(value.GetString(), value.GetStringLength());
    auto key = signing_key_from_secret(secret);
    if (!key) {
      error(path, "a \"whsec_\" secret must be followed by valid base64; "
                  "check it was copied whole");
      return false;
    }
    if (key->empty()) {
      error(path, "a \"whsec_\" secret must carry key bytes after the prefix");
      return false;
    }
    return true;
  }

  error_list& errors_;
  std::vector<std::string> name_paths_; // "subscribers[i].name", one per subscriber
};

// Parses `json_text`; on failure says where, by line and column (an offset
// alone is hard to find in an editor) and offset.
std::optional<config_error> parse_json(std::string_view json_text, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseIterativeFlag>(json_text.data(), json_text.size());
  if (!doc.HasParseError())
    return std::nullopt;
  size_t offset = doc.GetErrorOffset();
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < json_text.size(); ++i) {
    if (json_text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return config_error{"", "invalid JSON at line " + std::to_string(line) + ", column " +
                            std::to_string(column) + " (offset " + std::to_string(offset) +
                            "): " + rapidjson::GetParseError_En(doc.GetParseError())};
}

} // namespace

subscriber_result parse_subscriber_config(std::string_view json_text, const delivery_defaults& defaults,
                                          const std::string& path) {
  subscriber_result result;
  rapidjson::Document doc;
  if (auto error = parse_json(json_text, doc)) {
    result.errors.push_back(std::move(*error));
    return result;
  }
  if (!doc.IsObject()) {
    result.errors.push_back({path, "must be an object, got " + describe(doc)});
    return result;
  }
  subscriber_config sub;
  {
    config_parser parser(result.errors);
    sub = parser.parse_one_subscriber(doc, path, defaults);
  } // the reader reports unknown keys as it goes out of scope
  if (result.errors.empty())
    result.value = std::move(sub);
  return result;
}

config_result parse_config(std::string_view json_text) {
  config_result result;
  rapidjson::Document doc;
  if (auto error = parse_json(json_text, doc)) {
    result.errors.push_back(std::move(*error));
    return result;
  }
  if (!doc.IsObject()) {
    result.errors.push_back({"", "the config must be a JSON object ({...}), got " + describe(doc)});
    return result;
  }
  config cfg;
  config_parser parser(result.errors);
  parser.parse(doc, cfg);
  if (result.errors.empty())
    result.value = std::move(cfg);
  return result;
}

config_result load_config_file(const std::string& path) {
  auto fail = [&](int err) {
    config_result result;
    result.errors.push_back({"", "cannot read config file '" + path + "': " + std::strerror(err)});
    return result;
  };
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file)
    return fail(errno);
  std::string text;
  char buffer[65536];
  errno = 0;
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
    text.append(buffer, n);
  // fopen succeeds on a directory; the read is what fails (EISDIR).
  if (std::ferror(file.get()))
    return fail(errno != 0 ? errno : EIO);
  return parse_config(text);
}

std::string format_config_errors(const std::vector<config_error>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += "config error: ";
    if (!e.key.empty())
      out += e.key + ": ";
    out += e.message;
    out += '\n';
  }
  return out;
}

} // namespace volley
