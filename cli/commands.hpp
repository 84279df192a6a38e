#pragma once
// The `volley` subcommands. Each lives in its own file and is listed in
// command_table.cpp; main turns usage_error/connection_error into exit code 2.

#include "cli/command_line.hpp"

#include <string>
#include <vector>

namespace volley::cli {

constexpr int exit_ok = 0;
constexpr int exit_refused = 1; // the daemon said no, or a signature is invalid
constexpr int exit_error = 2;   // usage mistakes, unreachable daemon, unreadable input

using arguments = std::vector<std::string>;

struct command {
  const char* name;
  const char* summary; // one line for `volley --help`
  const char* usage;   // full usage, printed on --help and on usage errors
  int (*run)(const arguments& args);
  // Every option it accepts, over all its actions: its usage lists each
  // (a test checks), and options given before the command are checked
  // against them.
  std::vector<option_spec> options;
};

extern const command publish_command;
extern const command stats_command;
extern const command health_command;
extern const command subscribers_command;
extern const command failures_command;
extern const command queue_command;
extern const command test_command;
extern const command subscriber_command;
extern const command reload_command;
extern const command dlq_command;
extern const command events_command;
extern const command cluster_command;
extern const command sign_command;
extern const command verify_command;
extern const command receive_command;
extern const command secret_command;

// Every command, in the order `volley --help` lists them.
const std::vector<const command*>& all_commands();
// nullptr when there is no command of that name.
const command* find_command(const std::string& name);

} // namespace volley::cli
