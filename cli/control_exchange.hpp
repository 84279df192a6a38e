#pragma once
// What every control command shares: the connection options, building the
// one-line {"op":...} request, and printing the one-line reply — as a table
// for people, as is with --json — with the exit status it maps to.

#include "cli/command_line.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::cli {

// --host, --port, --timeout and --json, after the command's own `specs`.
std::vector<option_spec> with_connection_options(std::vector<option_spec> specs = {});

// Throws usage_error naming the first positional argument, if any.
void reject_positional(const parsed_options& options);

// Builds {"op":op, name:value...} with proper JSON escaping.
class control_request {
public:
  explicit control_request(const std::string& op);

  void add(const std::string& name, const std::string& value);
  void add(const std::string& name, int64_t value);
  std::string finish();

private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// Turns an {"ok":true,...} reply into text; nullopt when it has an
// unexpected shape (it is then printed as indented "key: value" lines).
using reply_renderer = std::function<std::optional<std::string>(std::string_view reply)>;

// Sends `request` and prints the reply: rendered on stdout, or as is with
// --json; a refusal ({"ok":false,"error":...}) goes to stderr as
// "<who>: <error>". Returns exit_ok when "ok" is true, exit_refused
// otherwise; throws connection_error when the daemon cannot be asked.
int exchange_and_print(const std::string& who, const parsed_options& options, const std::string& request,
                       const reply_renderer& render);

} // namespace volley::cli

// The connection options in each control command's usage text.
#define VOLLEY_CONNECTION_USAGE                                                                              \
  "  --host H           ingress host (default 127.0.0.1)\n"                                                  \
  "  --port P           ingress port (default 7400)\n"                                                       \
  "  --timeout SECONDS  how long to wait for the answer (default 30)\n"                                      \
  "  --json             print the daemon's reply line as is, for scripts\n"

#define VOLLEY_CONTROL_EXIT_USAGE                                                                            \
  "exit status: 0 answered, 1 the daemon refused, 2 connection or usage error\n"
