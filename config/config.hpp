#pragma once
// Volley's configuration: the JSON file of docs/ARCHITECTURE.md ("Config file"), as plain structs.
// Every key is validated up front; see config_loader.hpp.

#include "cluster/cluster_config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace volley {

struct backoff_config {
  uint64_t base_ms = 5000;
  uint64_t max_ms = 3600000;
  double jitter = 0.2; // ±20 % of the computed delay

  friend bool operator==(const backoff_config& a, const backoff_config& b) {
    return std::tie(a.base_ms, a.max_ms, a.jitter) == std::tie(b.base_ms, b.max_ms, b.jitter);
  }
};

struct breaker_config {
  // At volume (at least `min_requests` attempts in the last `rate_window_ms`)
  // the breaker opens only when `failure_rate_percent` of them failed: a
  // struggling endpoint fails some requests, a dead one fails all. Below that
  // volume, `failure_threshold` consecutive failures open it. A
  // failure_rate_percent of 0 turns the rate rule off: consecutive failures
  // open it at any volume (the behaviour before the rate rule).
  uint32_t failure_threshold = 5;
  uint64_t cooldown_ms = 30000; // first open period before a probe
  uint64_t max_cooldown_ms = 600000;
  double failure_rate_percent = 50;
  uint32_t min_requests = 20;
  uint64_t rate_window_ms = 30000;

  friend bool operator==(const breaker_config& a, const breaker_config& b) {
    auto tie = [](const breaker_config& c) {
      return std::tie(c.failure_threshold, c.cooldown_ms, c.max_cooldown_ms, c.failure_rate_percent,
                      c.min_requests, c.rate_window_ms);
    };
    return tie(a) == tie(b);
  }
};

// Adaptive concurrency (delivery/concurrency_limit.hpp): how many requests a
// subscriber keeps in flight, between 1 and its max_in_flight.
struct concurrency_config {
  bool adaptive = true;         // false: always max_in_flight
  uint32_t initial = 4;         // the limit at start (capped at max_in_flight)
  double decrease_factor = 0.5; // the limit is multiplied by this on overload
  double latency_ratio = 3.0;   // latency this far above the baseline is overload; 0: off

  friend bool operator==(const concurrency_config& a, const concurrency_config& b) {
    return std::tie(a.adaptive, a.initial, a.decrease_factor, a.latency_ratio) ==
           std::tie(b.adaptive, b.initial, b.decrease_factor, b.latency_ratio);
  }
};

// Values a subscriber inherits unless it sets its own ("defaults" key).
struct delivery_defaults {
  uint32_t max_attempts = 8;
  uint64_t timeout_ms = 10000;
  uint32_t max_in_flight = 64;
  backoff_config backoff;
  breaker_config breaker;
  concurrency_config concurrency;
  uint32_t disable_after_hours = 0; // no success while attempts failed this long: disable; 0: never
};

struct subscriber_config {
  std::string name;
  std::string url;
  std::vector<std::string> events;  // empty: every event
  std::vector<std::string> secrets; // "secret" (one) or "secrets" (rotation)
  uint32_t max_attempts = 8;
  uint64_t timeout_ms = 10000;
  uint32_t max_in_flight = 64;
  double rate_limit_per_s = 0; // 0: unlimited
  backoff_config backoff;
  breaker_config breaker;
  concurrency_config concurrency;
  uint32_t disable_after_hours = 0;
  bool tls_insecure = false;
  std::string tls_ca_file; // PEM CA certificates to trust; empty: the system's (http.tls_ca_file)
  bool enabled = true;
  // The header of the legacy signature (`sha256=<hex>`), for receivers
  // written against another name (n8n: X-Webhook-Signature-256, GitHub
  // style: X-Hub-Signature-256).
  std::string legacy_signature_header = "X-Webhook-Signature";

  // Same settings (a reload reports a subscriber as updated or unchanged).
  friend bool operator==(const subscriber_config& a, const subscriber_config& b) {
    auto tie = [](const subscriber_config& c) {
      return std::tie(c.name, c.url, c.events, c.secrets, c.max_attempts, c.timeout_ms, c.max_in_flight,
                      c.rate_limit_per_s, c.backoff, c.breaker, c.concurrency, c.disable_after_hours,
                      c.tls_insecure, c.tls_ca_file, c.enabled, c.legacy_signature_header);
    };
    return tie(a) == tie(b);
  }
  friend bool operator!=(const subscriber_config& a, const subscriber_config& b) { return !(a == b); }
};

// Assigns a priority to every event whose type matches `event` (a filter
// pattern, `*` allowed) and that carries no priority of its own.
struct priority_rule {
  std::string event;
  int priority = 0;
};

struct ingress_config {
  std::string host = "127.0.0.1";
  uint16_t port = 7400;
  uint64_t max_line_bytes = 1 << 20;
  uint32_t max_unacked = 4096; // per connection, before reading pauses
  uint32_t max_connections = 1024;
  std::string token;                 // empty: no auth required
  uint64_t idle_timeout_ms = 300000; // close connections silent this long; 0: never
};

// The HTTP API (README, "HTTP API"). It listens only when the file has an
// "api" object: the API can add subscribers, so an upgrade must not open it
// unasked. Key names match http_server_options.
struct api_config {
  bool enabled = false; // the file has an "api" object
  std::string host = "127.0.0.1";
  uint16_t port = 7401; // 0: any free port, named in the start-up line
  std::string token;    // non-empty: every request needs "Authorization: Bearer <token>"
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  uint32_t max_header_bytes = 8 * 1024;
  uint32_t header_timeout_ms = 10000;
  uint32_t body_timeout_ms = 60000;
  uint32_t idle_timeout_ms = 60000;
  uint32_t write_timeout_ms = 30000;
  uint32_t max_connections = 10000;
  uint32_t max_pipelined = 16;
  uint32_t threads = 1;

  friend bool operator==(const api_config& a, const api_config& b) {
    auto tie = [](const api_config& c) {
      return std::tie(c.enabled, c.host, c.port, c.token, c.max_body_bytes, c.max_header_bytes,
                      c.header_timeout_ms, c.body_timeout_ms, c.idle_timeout_ms, c.write_timeout_ms,
                      c.max_connections, c.max_pipelined, c.threads);
    };
    return tie(a) == tie(b);
  }
  friend bool operator!=(const api_config& a, const api_config& b) { return !(a == b); }
};

struct storage_config {
  std::string path = "./data";
  uint64_t map_size_mb = 4096;
  uint32_t batch_max = 4096; // records per write transaction at most
  // How long a transaction waits for more records once it has one; 0: it
  // commits as soon as no more writes are queued. batch_max cuts it short.
  uint32_t batch_interval_ms = 0;
  // How long subscribers' results (delivered, retried, dead-lettered) may
  // wait for a commit when no event does; a kill -9 within it delivers
  // those again after the restart. 0: as soon as events.
  uint32_t outcome_interval_ms = 10;
};

struct http_config {
  uint32_t max_concurrent = 1024; // requests running at once over all subscribers
  uint32_t threads = 0;           // HTTP engine threads (libcurl multi loops); 0: one per core
  std::string tls_ca_file;        // PEM CA certificates every subscriber trusts unless it sets its own
};

// The actor scheduler: threads for the actors (the HTTP engine and storage
// have threads of their own). 0 threads: one per core.
struct scheduler_config {
  uint32_t threads = 0;
  std::string policy = "sharing"; // or "stealing" (CAF's default)
};

struct monitor_config {
  uint64_t interval_ms = 10000;
  uint64_t window_s = 300; // success rate window of the log lines
  double healthy_percent = 95;
  double degraded_percent = 80;
  std::string format = "logfmt"; // or "json"
  uint64_t slow_ms = 1000;       // attempts slower than this are counted as slow
  // How often the hour and day windows are written to disk, so they outlast
  // a restart (a kill -9 loses at most this much); 0: never.
  uint64_t snapshot_interval_ms = 10000;
};

// The delivery log: every event's attempts and outcome per subscriber.
struct log_config {
  uint32_t retention_hours = 72; // 0: no delivery log
  uint64_t max_mb = 1024;        // the log's byte budget; the oldest go first beyond it
};

struct queue_config {
  uint32_t memory_limit = 100000; // deliveries per subscriber kept in memory
  uint64_t memory_mb = 512;       // bytes of deliveries in memory, for the node (0: no cap)
  uint64_t dedup_window_s = 3600;
  uint32_t dedup_max_ids = 1000000; // ids remembered at most; the oldest go first
};

struct config {
  ingress_config ingress;
  api_config api;
  storage_config storage;
  monitor_config monitor;
  queue_config queue;
  http_config http;
  scheduler_config scheduler;
  log_config log;
  bool allow_private_networks = false;
  std::string log_level = "info";
  delivery_defaults defaults;
  std::vector<priority_rule> priority_rules;
  std::vector<subscriber_config> subscribers;
  // Absent: a single node. Present: this node is one of a cluster on Kafka.
  std::optional<cluster_config> cluster;
};

} // namespace volley
