// `volley`: the command line client of volleyd. Finds the subcommand, runs
// it, and turns errors into a message and an exit status.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#ifndef VOLLEY_VERSION
#define VOLLEY_VERSION "dev"
#endif

namespace {

using volley::cli::command;

const command* const all_commands[] = {
  &volley::cli::publish_command,     &volley::cli::stats_command,      &volley::cli::health_command,
  &volley::cli::subscribers_command, &volley::cli::failures_command,   &volley::cli::queue_command,
  &volley::cli::test_command,        &volley::cli::subscriber_command, &volley::cli::reload_command,
  &volley::cli::dlq_command,         &volley::cli::events_command,     &volley::cli::cluster_command,
  &volley::cli::sign_command,        &volley::cli::verify_command,     &volley::cli::receive_command,
};

const command* find_command(const std::string& name) {
  for (const command* candidate : all_commands)
    if (name == candidate->name)
      return candidate;
  return nullptr;
}

void print_overview(std::FILE* out) {
  std::fputs("usage: volley <command> [options]\n\ncommands:\n", out);
  for (const command* entry : all_commands)
    std::fprintf(out, "  %-11s  %s\n", entry->name, entry->summary);
  std::fputs("\nRun 'volley <command> --help' for a command's options.\n"
             "The daemon is reached at 127.0.0.1:7400 unless --host/--port say otherwise.\n"
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

int run_command(const command& entry, const volley::cli::arguments& args) {
  if (asks_for_help(args)) {
    std::fputs(entry.usage, stdout);
    return volley::cli::exit_ok;
  }
  try {
    return entry.run(args);
  } catch (const volley::cli::usage_error& e) {
    // The synopsis (the usage up to its first blank line) and where the rest is.
    const std::string usage = entry.usage;
    const size_t blank = usage.find("\n\n");
    const std::string synopsis = blank == std::string::npos ? usage : usage.substr(0, blank + 1);
    std::fprintf(stderr, "volley %s: %s\n%sRun 'volley %s --help' for details.\n", entry.name, e.what(),
                 synopsis.c_str(), entry.name);
  } catch (const std::exception& e) {
    // connection_error and unreadable input: the message says what to do.
    std::fprintf(stderr, "volley %s: %s\n", entry.name, e.what());
  }
  return volley::cli::exit_error;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_overview(stderr);
    return volley::cli::exit_error;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    if (first == "help" && argc > 2) {
      const command* entry = find_command(argv[2]);
      if (!entry) {
        std::fprintf(stderr, "volley help: unknown command '%s'\n\n", argv[2]);
        print_overview(stderr);
        return volley::cli::exit_error;
      }
      std::fputs(entry->usage, stdout);
      return volley::cli::exit_ok;
    }
    print_overview(stdout);
    return volley::cli::exit_ok;
  }
  if (first == "--version") {
    std::printf("volley %s\n", VOLLEY_VERSION);
    return volley::cli::exit_ok;
  }
  const command* entry = find_command(first);
  if (!entry) {
    std::fprintf(stderr, "volley: unknown command '%s'\n\n", first.c_str());
    print_overview(stderr);
    return volley::cli::exit_error;
  }
  return run_command(*entry, volley::cli::arguments(argv + 2, argv + argc));
}
