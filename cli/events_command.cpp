// `volley events show|list|replay`: the delivery log, through the events.*
// control ops.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/control_exchange.hpp"
#include "cli/reply_tables.hpp"

#include <string>
#include <vector>

namespace volley::cli {

namespace {

const std::vector<option_spec> show_options = with_connection_options();
const std::vector<option_spec> list_options =
  with_connection_options({{"subscriber"}, {"status"}, {"since"}, {"limit"}});
const std::vector<option_spec> replay_options = with_connection_options({{"subscriber"}});

std::string the_id(const parsed_options& options, const char* action) {
  const auto& ids = options.positional();
  if (ids.size() != 1)
    throw usage_error(std::string{action} + " needs one event id");
  return ids.front();
}

int run_events_show(const arguments& args) {
  const auto options = parse_options(args, show_options);
  control_request request("events.show");
  request.add("id", the_id(options, "show"));
  return exchange_and_print("volley events show", options, request.finish(), render_event_log);
}

int run_events_list(const arguments& args) {
  const auto options = parse_options(args, list_options);
  reject_positional(options);
  control_request request("events.list");
  if (auto subscriber = options.value("subscriber"))
    request.add("subscriber", *subscriber);
  if (auto status = options.value("status")) {
    if (*status != "failed" && *status != "all")
      throw usage_error("--status takes failed or all");
    request.add("status", *status);
  }
  if (auto since = options.value("since"))
    request.add("since", *since);
  if (auto limit = options.value("limit"))
    request.add("limit", parse_integer(*limit, "--limit", 1, 1000));
  return exchange_and_print("volley events list", options, request.finish(), render_attempts_table);
}

int run_events_replay(const arguments& args) {
  const auto options = parse_options(args, replay_options);
  control_request request("events.replay");
  request.add("id", the_id(options, "replay"));
  if (auto subscriber = options.value("subscriber"))
    request.add("subscriber", *subscriber);
  return exchange_and_print("volley events replay", options, request.finish(), render_replayed);
}

int run_events(const arguments& args) {
  if (args.empty())
    throw usage_error("events needs an action: show, list or replay");
  const std::string& action = args.front();
  const arguments rest(args.begin() + 1, args.end());
  if (action == "show")
    return run_events_show(rest);
  if (action == "list")
    return run_events_list(rest);
  if (action == "replay")
    return run_events_replay(rest);
  throw usage_error("unknown events action '" + action + "' (expected show, list or replay)");
}

} // namespace

const command events_command{
  "events", "the delivery log: what each endpoint answered; replay",
  "usage: volley events show ID [options]\n"
  "       volley events list [--subscriber S] [--status failed|all] [--since 1h] [--limit N] [options]\n"
  "       volley events replay ID [--subscriber S] [options]\n"
  "\n"
  "show    prints one event's delivery log: per subscriber every attempt (when,\n"
  "        attempt number, HTTP status or error, latency) and how it ended\n"
  "list    prints logged attempts, newest first\n"
  "replay  delivers a logged event again, with the same id and body, to every\n"
  "        subscriber it went to (or the one named); marked as a replay in the log\n"
  "\n"
  "The log keeps log.retention_hours (default 72) within log.max_mb.\n"
  "\n"
  "options:\n"
  "  --subscriber S     list: only S's attempts; replay: only to S (default: every\n"
  "                     subscriber)\n"
  "  --status STATUS    list: failed (only attempts that did not deliver) or all\n"
  "                     (default all)\n"
  "  --since AGE        list: only the last 90s / 30m / 1h / 2d (default: the whole\n"
  "                     log)\n"
  "  --limit N          list: at most N attempts, 1..1000 (default 100)\n" VOLLEY_CONNECTION_USAGE "\n"
  "exit status: 0 done, 1 the daemon refused (e.g. no such event), 2 connection\n"
  "or usage error\n",
  run_events, merge_options(merge_options(show_options, list_options), replay_options)};

} // namespace volley::cli
