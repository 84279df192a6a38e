// `volley secret new`: a fresh signing secret for a subscriber's config.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "signing/webhook_secret.hpp"

#include <cstdio>

namespace volley::cli {

namespace {

int run_secret(const arguments& args) {
  if (args.empty())
    throw usage_error("secret needs an action: new");
  if (args.front() != "new")
    throw usage_error("unknown secret action '" + args.front() + "' (expected new)");
  const auto options = parse_options(arguments(args.begin() + 1, args.end()), secret_command.options);
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
  std::printf("%s\n", random_webhook_secret().c_str());
  return exit_ok;
}

} // namespace

const command secret_command{
  "secret",
  "print a new signing secret (whsec_...)",
  "usage: volley secret new\n"
  "\n"
  "Prints a fresh secret: whsec_ and the base64 of 32 random bytes from OpenSSL,\n"
  "for a subscriber's \"secret\" in the config and for its receiver. Add it first\n"
  "in the subscriber's \"secrets\" during rotation. It takes no options.\n",
  run_secret,
  {}};

} // namespace volley::cli
