// `volley sign` and `volley verify`: compute or check webhook signatures by
// hand, exactly as the daemon and a receiver would.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/signing_keys.hpp"
#include "signing/signature.hpp"
#include "signing/timestamp_tolerance.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

namespace volley::cli {

namespace {

// The body is signed byte for byte: no newline is added or stripped.
std::string read_body(const parsed_options& options) {
  if (auto path = options.value("body-file")) {
    std::ifstream file(*path, std::ios::binary);
    if (!file)
      throw std::runtime_error("cannot open body file '" + *path + "': " + std::strerror(errno));
    std::ostringstream content;
    content << file.rdbuf();
    if (file.bad())
      throw std::runtime_error("cannot read body file '" + *path + "'");
    return content.str();
  }
  std::string body{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  if (std::cin.bad())
    throw std::runtime_error("cannot read the body from stdin");
  return body;
}

int64_t parse_timestamp(const std::string& text) { return parse_integer(text, "--timestamp", 0, INT64_MAX); }

std::vector<std::string> required_keys(const parsed_options& options) {
  auto keys = signing_keys_from_options(options);
  if (keys.empty())
    throw usage_error("missing required option '--secret'");
  return keys;
}

int run_sign(const arguments& args) {
  const auto options = parse_options(args, sign_command.options);
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
  const auto keys = required_keys(options);
  const std::string id = require_value(options, "id");
  const int64_t timestamp = options.has("timestamp") ? parse_timestamp(*options.value("timestamp"))
                                                     : static_cast<int64_t>(std::time(nullptr));
  const std::string body = read_body(options);

  const std::string standard = standard_signature_header(keys, id, timestamp, body);
  // The legacy header has room for one signature: the first (newest) secret.
  const std::string legacy = legacy_signature(keys.front(), body);
  std::printf("webhook-id: %s\n", id.c_str());
  std::printf("webhook-timestamp: %lld\n", static_cast<long long>(timestamp));
  std::printf("webhook-signature: %s\n", standard.c_str());
  std::printf("X-Webhook-ID: %s\n", id.c_str());
  std::printf("X-Webhook-Timestamp: %lld\n", static_cast<long long>(timestamp));
  std::printf("X-Webhook-Signature: %s\n", legacy.c_str());
  return exit_ok;
}

int run_verify(const arguments& args) {
  const auto options = parse_options(args, verify_command.options);
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
  const auto keys = required_keys(options);
  const bool check_standard = options.has("signature");
  const bool check_legacy = options.has("legacy");
  if (!check_standard && !check_legacy)
    throw usage_error("nothing to verify: give --signature (with --id and --timestamp) or "
                      "--legacy");
  if (!check_standard && (options.has("id") || options.has("timestamp") || options.has("tolerance")))
    throw usage_error("--id, --timestamp and --tolerance belong to --signature (the webhook-signature "
                      "header); the legacy header signs the body alone");

  std::string id;
  int64_t timestamp = 0;
  if (check_standard) {
    id = require_value(options, "id");
    timestamp = parse_timestamp(require_value(options, "timestamp"));
  }
  const std::string body = read_body(options);

  // As the Standard Webhooks libraries do: a request outside the replay
  // window is refused whatever its signature.
  if (check_standard) {
    const int64_t tolerance = timestamp_tolerance_from_options(options);
    const auto verdict = judge_timestamp(timestamp, static_cast<int64_t>(std::time(nullptr)), tolerance);
    if (!verdict.accepted()) {
      std::puts("invalid");
      std::fprintf(stderr, "volley verify: %s; --tolerance SECONDS widens the window\n",
                   verdict.reason(timestamp, tolerance).c_str());
      return exit_refused;
    }
  }

  // Every header given must verify.
  bool valid = true;
  if (check_standard)
    valid = valid && verify_standard_signature(*options.value("signature"), keys, id, timestamp, body);
  if (check_legacy)
    valid = valid && verify_legacy_signature(*options.value("legacy"), keys, body);
  std::puts(valid ? "valid" : "invalid");
  return valid ? exit_ok : exit_refused;
}

} // namespace

const command sign_command{
  "sign",
  "print the signature headers a delivery of a body would carry",
  "usage: volley sign --secret S [--secret S2 ...] --id ID [--timestamp T]\n"
  "                   [--body-file F]\n"
  "\n"
  "Prints webhook-id, webhook-timestamp, webhook-signature (one v1 entry per\n"
  "secret) and the legacy X-Webhook-* headers (first secret) for the body read\n"
  "from F or stdin. The body is signed byte for byte: `echo` adds a newline,\n"
  "`printf '%s'` does not.\n"
  "\n"
  "  --secret S      signing secret: whsec_<base64> or any other string (raw bytes);\n"
  "                  repeat during rotation, newest first (required)\n"
  "  --id ID         the event id (webhook-id) (required)\n"
  "  --timestamp T   unix seconds (default: now)\n"
  "  --body-file F   read the body from F (default: stdin)\n",
  run_sign,
  {{"secret", true, true}, {"id"}, {"timestamp"}, {"body-file"}}};

const command verify_command{
  "verify",
  "check a webhook signature by hand",
  "usage: volley verify --secret S [--secret S2 ...]\n"
  "                     (--signature V1 --id ID --timestamp T [--tolerance SECONDS]\n"
  "                      | --legacy SHA256)\n"
  "                     [--body-file F]\n"
  "\n"
  "Prints \"valid\" (exit 0) or \"invalid\" (exit 1) for the body read from F or\n"
  "stdin, byte for byte.\n"
  "\n"
  "  --secret S       a secret the sender may use; repeat to accept several\n"
  "                   (required)\n"
  "  --signature V1   the webhook-signature header (\"v1,<base64> ...\"); this\n"
  "                   or --legacy is required\n"
  "  --id ID          the webhook-id header (required with --signature)\n"
  "  --timestamp T    the webhook-timestamp header, unix seconds (required with\n"
  "                   --signature)\n"
  "  --tolerance SECONDS\n"
  "                   how far T may be from now, either way (default 300)\n"
  "  --legacy SHA256  the X-Webhook-Signature header (\"sha256=<hex>\") (default:\n"
  "                   not checked)\n"
  "  --body-file F    read the body from F (default: stdin)\n"
  "\n"
  "Given both --signature and --legacy, both must verify. A timestamp further\n"
  "than the tolerance from now is refused (\"invalid\", the reason on stderr),\n"
  "as the Standard Webhooks libraries refuse replayed requests. The legacy\n"
  "header signs the body alone: it has no timestamp to check.\n",
  run_verify,
  {{"secret", true, true}, {"signature"}, {"id"}, {"timestamp"}, {"tolerance"}, {"legacy"}, {"body-file"}}};

} // namespace volley::cli
