// `volley stats`, `volley health` and `volley dlq ...`: one control line to
// the ingress ({"op":...}), one reply line back.

#include "cli/ack_line.hpp"
#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/ingress_client.hpp"
#include "cli/json_render.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

namespace volley::cli {

namespace {

// Options every control command shares.
const std::vector<option_spec> connection_options = {
    {"host"}, {"port"}, {"timeout"}, {"json", false}};

std::vector<option_spec> with_connection_options(std::vector<option_spec> specs) {
  specs.insert(specs.end(), connection_options.begin(), connection_options.end());
  return specs;
}

// Builds {"op":op, name:value...} with proper JSON escaping.
class control_request {
public:
  explicit control_request(const std::string& op) : writer_(buffer_) {
    writer_.StartObject();
    add("op", op);
  }

  void add(const std::string& name, const std::string& value) {
    writer_.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    writer_.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }

  void add(const std::string& name, int64_t value) {
    writer_.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    writer_.Int64(value);
  }

  std::string finish() {
    writer_.EndObject();
    return {buffer_.GetString(), buffer_.GetSize()};
  }

private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// Sends the request, prints the reply (raw with --json) and maps it to an
// exit code: 0 when "ok" is true, 1 otherwise.
int exchange_and_print(const parsed_options& options, const std::string& request) {
  const ingress_endpoint endpoint = endpoint_from_options(options);
  const auto timeout = std::chrono::seconds(
      parse_integer(options.value_or("timeout", "30"), "--timeout", 1, 86400));
  const std::string reply = exchange_line(endpoint, request, timeout);

  const auto readable = options.has("json") ? std::nullopt : render_readable(reply);
  if (readable) {
    std::fputs(readable->c_str(), stdout);
  } else {
    std::fputs(reply.c_str(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  return reply_is_ok(reply) ? exit_ok : exit_refused;
}

void reject_positional(const parsed_options& options) {
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
}

int run_simple_op(const std::string& op, const arguments& args) {
  const auto options = parse_options(args, connection_options);
  reject_positional(options);
  return exchange_and_print(options, control_request(op).finish());
}

int run_stats(const arguments& args) { return run_simple_op("stats", args); }
int run_health(const arguments& args) { return run_simple_op("health", args); }

int run_dlq_list(const arguments& args) {
  const auto options =
      parse_options(args, with_connection_options({{"subscriber"}, {"limit"}, {"after"}}));
  reject_positional(options);
  control_request request("dlq.list");
  if (auto subscriber = options.value("subscriber")) request.add("subscriber", *subscriber);
  if (auto limit = options.value("limit"))
    request.add("limit", parse_integer(*limit, "--limit", 1, 1000000));
  if (auto after = options.value("after")) request.add("after", *after);
  return exchange_and_print(options, request.finish());
}

int run_dlq_retry(const arguments& args) {
  const auto options = parse_options(args, with_connection_options({{"key"}, {"subscriber"}}));
  reject_positional(options);
  if (options.has("key") == options.has("subscriber"))
    throw usage_error("retry needs exactly one of --key KEY (one entry) or --subscriber S "
                      "(all of that subscriber's entries)");
  control_request request("dlq.retry");
  if (auto key = options.value("key")) request.add("key", *key);
  if (auto subscriber = options.value("subscriber")) request.add("subscriber", *subscriber);
  return exchange_and_print(options, request.finish());
}

int run_dlq_delete(const arguments& args) {
  const auto options = parse_options(args, with_connection_options({{"key"}}));
  reject_positional(options);
  control_request request("dlq.delete");
  request.add("key", require_value(options, "key"));
  return exchange_and_print(options, request.finish());
}

int run_dlq(const arguments& args) {
  if (args.empty()) throw usage_error("dlq needs an action: list, retry or delete");
  const std::string& action = args.front();
  const arguments rest(args.begin() + 1, args.end());
  if (action == "list") return run_dlq_list(rest);
  if (action == "retry") return run_dlq_retry(rest);
  if (action == "delete") return run_dlq_delete(rest);
  throw usage_error("unknown dlq action '" + action + "' (expected list, retry or delete)");
}

#define VOLLEY_CONNECTION_USAGE                                                   \
  "  --host H           ingress host (default 127.0.0.1)\n"                       \
  "  --port P           ingress port (default 7400)\n"                            \
  "  --timeout SECONDS  how long to wait for the answer (default 30)\n"           \
  "  --json             print the daemon's reply line as is\n"

} // namespace

const command stats_command{
    "stats", "print the daemon's counters",
    "usage: volley stats [--host H] [--port P] [--timeout SECONDS] [--json]\n"
    "\n"
    "Asks the daemon for its counters ({\"op\":\"stats\"}) and prints them.\n"
    "\n" VOLLEY_CONNECTION_USAGE "\n"
    "exit status: 0 answered, 1 the daemon refused, 2 connection or usage error\n",
    run_stats};

const command health_command{
    "health", "print the health of the node and of each subscriber",
    "usage: volley health [--host H] [--port P] [--timeout SECONDS] [--json]\n"
    "\n"
    "Asks the daemon for its health ({\"op\":\"health\"}) and prints it.\n"
    "\n" VOLLEY_CONNECTION_USAGE "\n"
    "exit status: 0 answered, 1 the daemon refused, 2 connection or usage error\n",
    run_health};

const command dlq_command{
    "dlq", "list, retry or delete dead-lettered deliveries",
    "usage: volley dlq list [--subscriber S] [--limit N] [--after KEY] [options]\n"
    "       volley dlq retry (--key KEY | --subscriber S) [options]\n"
    "       volley dlq delete --key KEY [options]\n"
    "\n"
    "list    prints dead-lettered deliveries, optionally of one subscriber, at most\n"
    "        N of them, starting after KEY (the last key of the previous page)\n"
    "retry   puts one entry (--key) or all of a subscriber's entries back in its\n"
    "        queue with fresh attempts\n"
    "delete  removes one entry for good\n"
    "\n"
    "options:\n" VOLLEY_CONNECTION_USAGE "\n"
    "exit status: 0 done, 1 the daemon refused (e.g. unknown key), 2 connection or\n"
    "usage error\n",
    run_dlq};

#undef VOLLEY_CONNECTION_USAGE

} // namespace volley::cli
