// `volley dlq list|retry|delete`: the dead-letter queue, through the
// dlq.* control ops.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/control_exchange.hpp"
#include "cli/reply_tables.hpp"

#include <string>

namespace volley::cli {

namespace {

int run_dlq_list(const arguments& args) {
  const auto options = parse_options(args, with_connection_options({{"subscriber"}, {"limit"}, {"after"}}));
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

int run_dlq_retry(const arguments& args) {
  const auto options = parse_options(args, with_connection_options({{"key"}, {"subscriber"}}));
  reject_positional(options);
  if (options.has("key") == options.has("subscriber"))
    throw usage_error("retry needs exactly one of --key KEY (one entry) or --subscriber S "
                      "(all of that subscriber's entries)");
  control_request request("dlq.retry");
  if (auto key = options.value("key"))
    request.add("key", *key);
  if (auto subscriber = options.value("subscriber"))
    request.add("subscriber", *subscriber);
  return exchange_and_print("volley dlq retry", options, request.finish(),
                            [](std::string_view reply) { return render_dlq_count(reply, "requeued"); });
}

int run_dlq_delete(const arguments& args) {
  const auto options = parse_options(args, with_connection_options({{"key"}}));
  reject_positional(options);
  control_request request("dlq.delete");
  request.add("key", require_value(options, "key"));
  return exchange_and_print("volley dlq delete", options, request.finish(),
                            [](std::string_view reply) { return render_dlq_count(reply, "deleted"); });
}

int run_dlq(const arguments& args) {
  if (args.empty())
    throw usage_error("dlq needs an action: list, retry or delete");
  const std::string& action = args.front();
  const arguments rest(args.begin() + 1, args.end());
  if (action == "list")
    return run_dlq_list(rest);
  if (action == "retry")
    return run_dlq_retry(rest);
  if (action == "delete")
    return run_dlq_delete(rest);
  throw usage_error("unknown dlq action '" + action + "' (expected list, retry or delete)");
}

} // namespace

const command dlq_command{"dlq", "list, retry or delete dead-lettered deliveries",
                          "usage: volley dlq list [--subscriber S] [--limit N] [--after KEY] [options]\n"
                          "       volley dlq retry (--key KEY | --subscriber S) [options]\n"
                          "       volley dlq delete --key KEY [options]\n"
                          "\n"
                          "list    prints dead-lettered deliveries — key, event id, type, attempts, last\n"
                          "        HTTP status and error, when it failed — optionally of one subscriber,\n"
                          "        at most N of them (1..10000, default 100), starting after KEY (the\n"
                          "        last key of the previous page; the table ends with it when there is\n"
                          "        more). Long values are cut; --json has them whole, bodies included.\n"
                          "retry   puts one entry (--key) or all of a subscriber's entries back in its\n"
                          "        queue with fresh attempts\n"
                          "delete  removes one entry for good\n"
                          "\n"
                          "options:\n" VOLLEY_CONNECTION_USAGE "\n"
                          "exit status: 0 done, 1 the daemon refused (e.g. a malformed key), 2 connection\n"
                          "or usage error\n",
                          run_dlq};

} // namespace volley::cli
