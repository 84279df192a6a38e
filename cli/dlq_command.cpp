// `volley dlq list|retry|delete`: the dead-letter queue, through the
// dlq.* control ops.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/control_exchange.hpp"
#include "cli/reply_tables.hpp"

#include <string>
#include <vector>

namespace volley::cli {

namespace {

const std::vector<option_spec> list_options = with_connection_options({{"subscriber"}, {"limit"}, {"after"}});
const std::vector<option_spec> change_options = with_connection_options({{"key"}, {"subscriber"}});

int run_dlq_list(const arguments& args) {
  const auto options = parse_options(args, list_options);
  reject_positional(options);
  control_request request("dlq.list");
  if (auto subscriber = options.value("subscriber"))
    request.add("subscriber", *subscriber);
  // The daemon's page size limit.
  if (auto limit = options.value("limit"))
    request.add("limit", parse_integer(*limit, "--limit", 1, 10000));
  if (auto after = options.value("after"))
    request.add("after", *after);
  return exchange_and_print("volley dlq list", options, request.finish(), render_dlq_table);
}

// retry and delete: one entry (--key) or all of a subscriber's. An unknown
// key is refused by the daemon, so the exit status tells.
int run_dlq_change(const std::string& action, const arguments& args, const char* done) {
  const auto options = parse_options(args, change_options);
  reject_positional(options);
  if (options.has("key") == options.has("subscriber"))
    throw usage_error(action + " needs exactly one of --key KEY (one entry) or --subscriber S "
                               "(all of that subscriber's entries)");
  control_request request("dlq." + action);
  if (auto key = options.value("key"))
    request.add("key", *key);
  if (auto subscriber = options.value("subscriber"))
    request.add("subscriber", *subscriber);
  return exchange_and_print("volley dlq " + action, options, request.finish(),
                            [done](std::string_view reply) { return render_dlq_count(reply, done); });
}

int run_dlq(const arguments& args) {
  if (args.empty())
    throw usage_error("dlq needs an action: list, retry or delete");
  const std::string& action = args.front();
  const arguments rest(args.begin() + 1, args.end());
  if (action == "list")
    return run_dlq_list(rest);
  if (action == "retry")
    return run_dlq_change(action, rest, "requeued");
  if (action == "delete")
    return run_dlq_change(action, rest, "deleted");
  throw usage_error("unknown dlq action '" + action + "' (expected list, retry or delete)");
}

} // namespace

const command dlq_command{
  "dlq", "list, retry or delete dead-lettered deliveries",
  "usage: volley dlq list [--subscriber S] [--limit N] [--after KEY] [options]\n"
  "       volley dlq retry (--key KEY | --subscriber S) [options]\n"
  "       volley dlq delete (--key KEY | --subscriber S) [options]\n"
  "\n"
  "list    prints dead-lettered deliveries — key, event id, type, attempts, last\n"
  "        HTTP status and error, when it failed. Long values are cut; --json has\n"
  "        them whole, bodies included. The table ends with the last key when\n"
  "        there is more.\n"
  "retry   puts one entry or all of a subscriber's entries back in its queue\n"
  "        with fresh attempts\n"
  "delete  removes one entry or all of a subscriber's entries for good\n"
  "A --key that is not in the dead-letter queue is refused (exit 1).\n"
  "\n"
  "options:\n"
  "  --subscriber S     list: only S's entries (default: every subscriber's);\n"
  "                     retry, delete: all of S's entries\n"
  "  --key KEY          retry, delete: the one entry KEY, as listed (\"billing/42\");\n"
  "                     this or --subscriber is required\n"
  "  --limit N          list: at most N entries, 1..10000 (default 100)\n"
  "  --after KEY        list: start after KEY, the last of the previous page\n"
  "                     (default: from the first)\n" VOLLEY_CONNECTION_USAGE "\n"
  "exit status: 0 done, 1 the daemon refused (e.g. an unknown or malformed key),\n"
  "2 connection or usage error\n",
  run_dlq, merge_options(list_options, change_options)};

} // namespace volley::cli
