// `volley stats`, `health`, `subscribers`, `failures`, `queue` and `reload`:
// one control line to the ingress ({"op":...}), one reply line back, shown
// as tables.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/control_exchange.hpp"
#include "cli/reply_tables.hpp"
#include "cli/stats_tables.hpp"
#include "time/timestamp.hpp"

#include <string>

namespace volley::cli {

namespace {

int run_simple_op(const command& self, const std::string& op, const arguments& args,
                  const reply_renderer& render) {
  const auto options = parse_options(args, self.options);
  reject_positional(options);
  return exchange_and_print(std::string{"volley "} + self.name, options, control_request(op).finish(),
                            render);
}

int run_stats(const arguments& args) {
  const auto options = parse_options(args, stats_command.options);
  reject_positional(options);
  control_request request("stats");
  // The daemon keeps 24 hours of counts.
  if (auto hours = options.value("hours"))
    request.add("hours", parse_integer(*hours, "--hours", 1, 24));
  return exchange_and_print("volley stats", options, request.finish(), render_stats_tables);
}

int run_health(const arguments& args) {
  return run_simple_op(health_command, "health", args, render_health_table);
}

int run_cluster(const arguments& args) {
  return run_simple_op(cluster_command, "cluster", args, render_cluster);
}

int run_subscribers(const arguments& args) {
  return run_simple_op(subscribers_command, "subscribers", args,
                       [](std::string_view reply) { return render_subscribers_table(reply, unix_ms_now()); });
}

int run_failures(const arguments& args) {
  const auto options = parse_options(args, failures_command.options);
  reject_positional(options);
  control_request request("failures");
  // The daemon keeps the latest 1000.
  if (auto limit = options.value("limit"))
    request.add("limit", parse_integer(*limit, "--limit", 1, 1000));
  return exchange_and_print("volley failures", options, request.finish(), render_failures_table);
}

int run_queue(const arguments& args) {
  return run_simple_op(queue_command, "queue", args, render_queue_table);
}

int run_reload(const arguments& args) {
  return run_simple_op(reload_command, "reload", args, render_reload_table);
}

} // namespace

const command stats_command{
  "stats", "print delivery counts, success rates and latencies",
  "usage: volley stats [--hours N] [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Asks the daemon for its counters ({\"op\":\"stats\"}) and prints three tables:\n"
  "the node and each subscriber over the health window (monitor.window_s) with\n"
  "status, breaker, deliveries, success rate, latency, queue and in-flight; the\n"
  "same per window (1m, 1h, 24h, since start) with attempts, outcomes by HTTP\n"
  "status or error, and attempts per delivery; and the event types.\n"
  "\n"
  "  --hours N          also show the last N hours, 1..24 (default: none)\n" VOLLEY_CONNECTION_USAGE
  "\n" VOLLEY_CONTROL_EXIT_USAGE,
  run_stats, with_connection_options({{"hours"}})};

const command health_command{
  "health", "print the health of the node and of each subscriber",
  "usage: volley health [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Asks the daemon for its health ({\"op\":\"health\"}) and prints one row for the\n"
  "node and one per subscriber: healthy, degraded, unhealthy or unknown (no\n"
  "attempt lately), judged on the success rate over monitor.window_s.\n"
  "\n" VOLLEY_CONNECTION_USAGE "\n" VOLLEY_CONTROL_EXIT_USAGE,
  run_health, with_connection_options()};

const command cluster_command{
  "cluster", "print this node's partitions and the consumer group's members (cluster mode)",
  "usage: volley cluster [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Asks the daemon ({\"op\":\"cluster\"}) for its node name, consumer group and the\n"
  "partitions it owns, and the group's members with theirs as the brokers tell.\n"
  "\n" VOLLEY_CONNECTION_USAGE "\n" VOLLEY_CONTROL_EXIT_USAGE,
  run_cluster, with_connection_options()};

const command subscribers_command{
  "subscribers", "print each subscriber's state: breaker, queues, last success and error",
  "usage: volley subscribers [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Asks the daemon for its subscribers ({\"op\":\"subscribers\"}) and prints one row\n"
  "each: health, enabled, circuit breaker, failed attempts in a row, deliveries\n"
  "in flight and queued, when it last succeeded and failed, and the last error.\n"
  "\n" VOLLEY_CONNECTION_USAGE "\n" VOLLEY_CONTROL_EXIT_USAGE,
  run_subscribers, with_connection_options()};

const command failures_command{
  "failures", "print the latest failed delivery attempts",
  "usage: volley failures [--limit N] [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Asks the daemon for its latest failed attempts ({\"op\":\"failures\"}), newest\n"
  "first: when, subscriber, event, attempt number, HTTP status and error.\n"
  "\n"
  "  --limit N          at most N of them, 1..1000 (default 20)\n" VOLLEY_CONNECTION_USAGE
  "\n" VOLLEY_CONTROL_EXIT_USAGE,
  run_failures, with_connection_options({{"limit"}})};

const command queue_command{
  "queue", "print the deliveries pending on disk, per subscriber and priority",
  "usage: volley queue [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Asks the daemon what is pending on disk ({\"op\":\"queue\"}): the totals, and per\n"
  "subscriber by priority, including subscribers removed from the config whose\n"
  "deliveries are still stored.\n"
  "\n" VOLLEY_CONNECTION_USAGE "\n" VOLLEY_CONTROL_EXIT_USAGE,
  run_queue, with_connection_options()};

const command reload_command{
  "reload", "re-read the daemon's config file (like SIGHUP)",
  "usage: volley reload [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Makes the daemon re-read its config file ({\"op\":\"reload\"}) and prints which\n"
  "subscribers were added, removed, updated (settings changed) or unchanged. An\n"
  "invalid file is refused with the reason and the running config stays. Ingress,\n"
  "storage and allow_private_networks changes apply only after a restart.\n"
  "\n" VOLLEY_CONNECTION_USAGE "\n"
  "exit status: 0 reloaded, 1 the daemon refused (e.g. invalid config), 2 connection\n"
  "or usage error\n",
  run_reload, with_connection_options()};

} // namespace volley::cli
