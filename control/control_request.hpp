#pragma once
// Control requests (the ingress protocol's "op" lines, and the HTTP API's
// reads and actions), parsed once into a typed request. The op table below
// is the one place that says which ops exist and which part of the node
// answers each.

#include "storage/records.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

enum class control_op {
  stats,
  health,
  subscribers,
  failures,
  queue,
  test,
  subscriber_enable,
  subscriber_disable,
  dlq_list,
  dlq_retry,
  dlq_delete,
  reload,
  cluster,
  events_show,
  events_list,
  events_replay,
};

// Which part of the node answers an op.
enum class control_owner {
  monitor,      // counts and health, from its rolling windows
  store_reader, // reads of the store, on a thread other than the one that commits
  persistence,  // changes to the store (it is the only writer)
  subscriber,   // one subscriber actor, named by the request
  node,         // the node itself (re-reading its config, asking the brokers)
};

struct control_op_info {
  const char* name; // as on the wire: "dlq.list"
  control_op op;
  control_owner owner;
};

// Every op, in the order `known_control_ops` lists them.
const std::vector<control_op_info>& control_ops();
const control_op_info* find_control_op(std::string_view name);
const control_op_info& control_op_of(control_op op);
// "stats, health, ..." for error messages.
std::string known_control_ops();

struct control_request {
  control_op op = control_op::stats;
  int hours = 0;                     // stats: an extra window of 1..24 hours; 0: none
  size_t limit = 0;                  // failures (default 20), dlq.list (default 100)
  std::string subscriber;            // test, subscriber.*: required; dlq.*: all of its entries
  std::optional<delivery_key> key;   // dlq.retry, dlq.delete: one entry
  std::optional<delivery_key> after; // dlq.list: the page after this entry
  std::string event_id;              // events.show, events.replay
  bool failed_only = false;          // events.list: only attempts that did not deliver
  int64_t within_ms = 0;             // events.list: only attempts this recent; 0: any

  const char* name() const { return control_op_of(op).name; }
  control_owner owner() const { return control_op_of(op).owner; }
};

struct parsed_control {
  std::optional<control_request> request;
  std::string error; // what was wrong, for the client, when there is no request
};

// Reads the fields of a control line whose "op" is `op`.
parsed_control parse_control_request(std::string_view op, std::string_view line);

constexpr size_t default_failures_limit = 20;
constexpr size_t default_dlq_limit = 100;
constexpr size_t max_dlq_limit = 10000;
constexpr size_t default_events_limit = 100;
constexpr size_t max_events_limit = 1000;

// "90s", "30m", "1h", "2d" or a whole number of seconds, in milliseconds;
// nullopt when it is none of these.
std::optional<int64_t> parse_duration_ms(std::string_view text);

} // namespace volley
