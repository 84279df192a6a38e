#pragma once
// The daemon's control answers as tables for people (`volley stats` has its
// own file, stats_tables.hpp). Each takes an {"ok":true,...} reply line and
// returns the text to print, or nullopt when the reply lacks the list or
// object the op answers with; the caller then prints it generically.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley::cli {

// {"op":"health"}: the node and each subscriber with its status.
std::optional<std::string> render_health_table(std::string_view reply);

// {"op":"subscribers"}: one row per subscriber; last success/failure are
// shown as ages relative to `now_ms` (unix ms).
std::optional<std::string> render_subscribers_table(std::string_view reply, int64_t now_ms);

// {"op":"failures"}: the latest failed attempts, newest first.
std::optional<std::string> render_failures_table(std::string_view reply);

// {"op":"queue"}: pending deliveries on disk per subscriber and priority.
std::optional<std::string> render_queue_table(std::string_view reply);

// {"op":"test"}: how the test delivery went.
std::optional<std::string> render_test_table(std::string_view reply);

// {"op":"subscriber.enable"} / "subscriber.disable": the new state.
std::optional<std::string> render_enabled_table(std::string_view reply);

// {"op":"reload"}: what happened to each subscriber.
std::optional<std::string> render_reload_table(std::string_view reply);

// {"op":"dlq.list"}: one row per entry, and how to ask for the next page.
std::optional<std::string> render_dlq_table(std::string_view reply);

// {"op":"dlq.retry"} / "dlq.delete": "requeued 3 entries"; `done` is the verb.
std::optional<std::string> render_dlq_count(std::string_view reply, const std::string& done);

// {"op":"events.show"}: per subscriber, its attempts and how it ended.
std::optional<std::string> render_event_log(std::string_view reply);

// {"op":"events.list"}: logged attempts, newest first.
std::optional<std::string> render_attempts_table(std::string_view reply);

// {"op":"events.replay"}: to whom it goes again.
std::optional<std::string> render_replayed(std::string_view reply);

// {"op":"cluster"}: this node's partitions and the group's members.
std::optional<std::string> render_cluster(std::string_view reply);

} // namespace volley::cli
