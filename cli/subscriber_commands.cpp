// `volley test` and `volley subscriber enable|disable`: control ops aimed at
// one subscriber, named with --subscriber as everywhere in the CLI.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/control_exchange.hpp"
#include "cli/reply_tables.hpp"

#include <string>

namespace volley::cli {

namespace {

std::string subscriber_name(const parsed_options& options) {
  const std::string name = require_value(options, "subscriber");
  if (name.empty())
    throw usage_error("--subscriber must not be empty");
  return name;
}

int run_test(const arguments& args) {
  const auto options = parse_options(args, test_command.options);
  reject_positional(options);
  control_request request("test");
  request.add("subscriber", subscriber_name(options));
  return exchange_and_print("volley test", options, request.finish(), render_test_table);
}

int run_subscriber(const arguments& args) {
  if (args.empty())
    throw usage_error("subscriber needs an action: enable or disable");
  const std::string& action = args.front();
  if (action != "enable" && action != "disable")
    throw usage_error("unknown subscriber action '" + action + "' (expected enable or disable)");
  const auto options = parse_options(arguments(args.begin() + 1, args.end()), subscriber_command.options);
  reject_positional(options);
  control_request request("subscriber." + action);
  request.add("subscriber", subscriber_name(options));
  return exchange_and_print("volley subscriber " + action, options, request.finish(), render_enabled_table);
}

} // namespace

const command test_command{
  "test", "send a signed test event to one subscriber and print the outcome",
  "usage: volley test --subscriber S [--host H] [--port P] [--timeout SECONDS] [--json]\n"
  "\n"
  "Makes the daemon send one signed event of type volley.test to subscriber S\n"
  "({\"op\":\"test\"}) outside its queue — nothing is stored or retried — and\n"
  "prints the URL, HTTP status, outcome (delivered, or why not) and latency.\n"
  "\n"
  "  --subscriber S     the subscriber's name in the config (required)\n" VOLLEY_CONNECTION_USAGE "\n"
  "exit status: 0 answered (whatever the outcome: see OUTCOME), 1 the daemon\n"
  "refused (e.g. unknown subscriber), 2 connection or usage error\n",
  run_test, with_connection_options({{"subscriber"}})};

const command subscriber_command{
  "subscriber", "enable or disable one subscriber",
  "usage: volley subscriber (enable | disable) --subscriber S [options]\n"
  "\n"
  "disable  stops deliveries to subscriber S; they stay queued (on disk)\n"
  "enable   resumes them, e.g. after the endpoint answered 410 Gone\n"
  "Either is recorded in the data directory before the answer and outlasts\n"
  "restarts, as does a disable by a 410. A reload keeps it unless it changes\n"
  "the subscriber's \"enabled\" in the config, which then applies;\n"
  "\"enabled\": false in the config applies at every start.\n"
  "\n"
  "options:\n"
  "  --subscriber S     the subscriber's name in the config (required)\n" VOLLEY_CONNECTION_USAGE "\n"
  "exit status: 0 done, 1 the daemon refused (e.g. unknown subscriber), 2 connection\n"
  "or usage error\n",
  run_subscriber, with_connection_options({{"subscriber"}})};

} // namespace volley::cli
