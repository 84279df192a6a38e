// `volley`: the command line client of volleyd. Finds the subcommand, runs
// it, and turns errors into a message and an exit status.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/control_exchange.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#ifndef VOLLEY_VERSION
#define VOLLEY_VERSION "dev"
#endif

namespace {

using volley::cli::command;

void print_overview(std::FILE* out) {
  std::fputs("usage: volley [--host H] [--port P] [--timeout SECONDS] [--json] <command> [options]\n"
             "\ncommands:\n",
             out);
  for (const command* entry : volley::cli::all_commands())
    std::fprintf(out, "  %-11s  %s\n", entry->name, entry->summary);
  std::fputs("\nRun 'volley <command> --help' (or 'volley help <command>') for a command's options.\n"
             "The daemon is reached at 127.0.0.1:7400 unless --host/--port say otherwise; these\n"
             "and --timeout and --json may come before or after the command.\n"
             "When it sets ingress.token, put the token in the VOLLEY_TOKEN environment variable.\n"
             "Commands that ask the daemon print tables; --json prints its reply line as is.\n",
             out);
}

bool asks_for_help(const volley::cli::arguments& args) {
  for (const auto& arg : args)
    if (arg == "--help" || arg == "-h")
      return true;
  return false;
}

bool accepts(const command& entry, const std::string& option) {
  return std::any_of(entry.options.begin(), entry.options.end(),
                     [&](const volley::cli::option_spec& spec) { return spec.name == option; });
}

void print_usage_error(const command& entry, const char* what) {
  // The synopsis (the usage up to its first blank line) and where the rest is.
  const std::string usage = entry.usage;
  const size_t blank = usage.find("\n\n");
  const std::string synopsis = blank == std::string::npos ? usage : usage.substr(0, blank + 1);
  std::fprintf(stderr, "volley %s: %s\n%sRun 'volley %s --help' for details.\n", entry.name, what,
               synopsis.c_str(), entry.name);
}

int run_command(const command& entry, const volley::cli::command_call& call) {
  if (asks_for_help(call.args)) {
    std::fputs(entry.usage, stdout);
    return volley::cli::exit_ok;
  }
  try {
    // Options before the command are the daemon's address and the like:
    // meaningless to a command that does not ask the daemon (receive's
    // --port is the port it listens on).
    if (!call.leading_options.empty() && !accepts(entry, "host"))
      throw volley::cli::usage_error("'--" + call.leading_options.front() + "' before the command is for " +
                                     "commands that ask the daemon; '" + entry.name +
                                     "' does not: put its own options after it");
    return entry.run(call.args);
  } catch (const volley::cli::usage_error& e) {
    print_usage_error(entry, e.what());
  } catch (const std::exception& e) {
    // connection_error and unreadable input: the message says what to do.
    std::fprintf(stderr, "volley %s: %s\n", entry.name, e.what());
  }
  return volley::cli::exit_error;
}

} // namespace

int main(int argc, char** argv) {
  volley::cli::command_call call;
  try {
    call = volley::cli::split_command_call(volley::cli::arguments(argv + 1, argv + argc),
                                           volley::cli::with_connection_options());
  } catch (const volley::cli::usage_error& e) {
    std::fprintf(stderr, "volley: %s\n\n", e.what());
    print_overview(stderr);
    return volley::cli::exit_error;
  }
  if (call.command.empty()) {
    print_overview(stderr);
    return volley::cli::exit_error;
  }
  if (call.command == "--help" || call.command == "-h" || call.command == "help") {
    if (call.command == "help" && !call.args.empty()) {
      const command* entry = volley::cli::find_command(call.args.front());
      if (!entry) {
        std::fprintf(stderr, "volley help: unknown command '%s'\n\n", call.args.front().c_str());
        print_overview(stderr);
        return volley::cli::exit_error;
      }
      std::fputs(entry->usage, stdout);
      return volley::cli::exit_ok;
    }
    print_overview(stdout);
    return volley::cli::exit_ok;
  }
  if (call.command == "--version") {
    std::printf("volley %s\n", VOLLEY_VERSION);
    return volley::cli::exit_ok;
  }
  const command* entry = volley::cli::find_command(call.command);
  if (!entry) {
    std::fprintf(stderr, "volley: unknown command '%s'\n\n", call.command.c_str());
    print_overview(stderr);
    return volley::cli::exit_error;
  }
  return run_command(*entry, call);
}
