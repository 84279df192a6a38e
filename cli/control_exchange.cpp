#include "cli/control_exchange.hpp"

#include "cli/ack_line.hpp"
#include "cli/commands.hpp"
#include "cli/ingress_client.hpp"
#include "cli/json_render.hpp"

#include <chrono>
#include <cstdio>

namespace volley::cli {

std::vector<option_spec> with_connection_options(std::vector<option_spec> specs) {
  specs.insert(specs.end(), {{"host"}, {"port"}, {"timeout"}, {"json", false}});
  return specs;
}

void reject_positional(const parsed_options& options) {
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
}

control_request::control_request(const std::string& op) : writer_(buffer_) {
  writer_.StartObject();
  add("op", op);
}

void control_request::add(const std::string& name, const std::string& value) {
  writer_.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
  writer_.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void control_request::add(const std::string& name, int64_t value) {
  writer_.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
  writer_.Int64(value);
}

std::string control_request::finish() {
  writer_.EndObject();
  return {buffer_.GetString(), buffer_.GetSize()};
}

int exchange_and_print(const std::string& who, const parsed_options& options, const std::string& request,
                       const reply_renderer& render) {
  const ingress_endpoint endpoint = endpoint_from_options(options);
  const auto timeout =
    std::chrono::seconds(parse_integer(options.value_or("timeout", "30"), "--timeout", 1, 86400));
  const std::string reply = exchange_line(endpoint, request, timeout);
  const bool ok = reply_is_ok(reply);

  if (options.has("json")) {
    std::fputs(reply.c_str(), stdout);
    std::fputc('\n', stdout);
  } else if (!ok) {
    std::string error = reply_error(reply);
    if (error.empty())
      error = "unexpected answer from the daemon: " + reply;
    std::fprintf(stderr, "%s: %s\n", who.c_str(), error.c_str());
  } else if (auto text = render(reply)) {
    std::fputs(text->c_str(), stdout);
  } else if (auto readable = render_readable(reply)) {
    std::fputs(readable->c_str(), stdout);
  } else {
    std::fputs(reply.c_str(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  return ok ? exit_ok : exit_refused;
}

} // namespace volley::cli
