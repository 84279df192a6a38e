// The list of `volley` commands: what `volley --help` shows and main looks
// commands up in.

#include "cli/commands.hpp"

namespace volley::cli {

const std::vector<const command*>& all_commands() {
  static const std::vector<const command*> commands{
    &publish_command,  &stats_command,  &health_command,  &subscribers_command,
    &failures_command, &queue_command,  &test_command,    &subscriber_command,
    &reload_command,   &dlq_command,    &events_command,  &cluster_command,
    &sign_command,     &verify_command, &receive_command, &secret_command,
  };
  return commands;
}

const command* find_command(const std::string& name) {
  for (const command* candidate : all_commands())
    if (name == candidate->name)
      return candidate;
  return nullptr;
}

} // namespace volley::cli
