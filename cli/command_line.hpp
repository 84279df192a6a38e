#pragma once
// Option parsing for the `volley` subcommands: `--name value`,
// `--name=value` and bare flags, checked against what each command accepts.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace volley::cli {

// A mistake in how the command was called; main prints it with the usage.
class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct option_spec {
  std::string name; // without the leading "--"
  bool takes_value = true;
  bool repeatable = false; // e.g. --secret during rotation
};

class parsed_options {
public:
  bool help_requested() const { return help_; }
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  // The value of a single-valued option, nullopt when absent.
  std::optional<std::string> value(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  // Every value of a repeatable option, in command-line order.
  std::vector<std::string> values(const std::string& name) const;
  // Arguments that are not options (e.g. the "list" of `dlq list`).
  const std::vector<std::string>& positional() const { return positional_; }

private:
  friend parsed_options parse_options(const std::vector<std::string>&, const std::vector<option_spec>&);
  bool help_ = false;
  std::map<std::string, std::vector<std::string>> values_; // flags hold one ""
  std::vector<std::string> positional_;
};

// Throws usage_error for unknown options, missing values and single-valued
// options given twice. "--help"/"-h" are always accepted.
parsed_options parse_options(const std::vector<std::string>& args, const std::vector<option_spec>& specs);

// `volley [global options] <command> [arguments]`, split. The global
// options given before the command are moved after its arguments, where
// the command's own parser checks them like any other: `volley --port 1
// stats` is `volley stats --port 1`.
struct command_call {
  std::string command;                      // "" when there is none
  std::vector<std::string> args;            // what the command parses
  std::vector<std::string> leading_options; // names of those given before it
};

// Throws usage_error for an option before the command that is not one of
// `global`, or that lacks its value.
command_call split_command_call(const std::vector<std::string>& argv, const std::vector<option_spec>& global);

// `a`, then the options of `b` that `a` lacks: what a command with several
// actions accepts over all of them.
std::vector<option_spec> merge_options(std::vector<option_spec> a, const std::vector<option_spec>& b);

// Parses a decimal integer within [min, max]; `what` names it in the error.
int64_t parse_integer(const std::string& text, const std::string& what, int64_t min, int64_t max);

// A TCP port; 0 only when `allow_zero` (meaning "any free port").
uint16_t parse_port(const std::string& text, const std::string& what, bool allow_zero);

// Throws usage_error naming `name` when the option is absent.
std::string require_value(const parsed_options& options, const std::string& name);

} // namespace volley::cli
