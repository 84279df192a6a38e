#include "cli/command_line.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdlib>

namespace volley::cli {

namespace {

const option_spec* find_spec(const std::vector<option_spec>& specs, const std::string& name) {
  for (const auto& spec : specs)
    if (spec.name == name)
      return &spec;
  return nullptr;
}

} // namespace

std::optional<std::string> parsed_options::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty())
    return std::nullopt;
  return it->second.back();
}

std::string parsed_options::value_or(const std::string& name, const std::string& fallback) const {
  return value(name).value_or(fallback);
}

std::vector<std::string> parsed_options::values(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

parsed_options parse_options(const std::vector<std::string>& args, const std::vector<option_spec>& specs) {
  parsed_options out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help_ = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (!arg.empty() && arg[0] == '-' && arg != "-")
        throw usage_error("unknown option '" + arg + "' (options are spelled --name)");
      out.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const option_spec* spec = find_spec(specs, name);
    if (!spec)
      throw usage_error("unknown option '--" + name + "'");
    auto& slot = out.values_[name];
    if (!spec->repeatable && !slot.empty())
      throw usage_error("option '--" + name + "' given more than once");
    if (!spec->takes_value) {
      if (inline_value)
        throw usage_error("option '--" + name + "' takes no value");
      slot.emplace_back();
      continue;
    }
    if (inline_value) {
      slot.push_back(*inline_value);
    } else if (i + 1 < args.size()) {
      slot.push_back(args[++i]);
    } else {
      throw usage_error("option '--" + name + "' needs a value");
    }
  }
  return out;
}

command_call split_command_call(const std::vector<std::string>& argv,
                                const std::vector<option_spec>& global) {
  command_call out;
  std::vector<std::string> moved;
  size_t i = 0;
  // --help, -h and --version stand where a command would.
  auto is_option = [](const std::string& arg) {
    return arg.size() > 1 && arg[0] == '-' && arg != "--help" && arg != "-h" && arg != "--version";
  };
  for (; i < argv.size() && is_option(argv[i]); ++i) {
    std::string name = argv[i].compare(0, 2, "--") == 0 ? argv[i].substr(2) : argv[i];
    const bool inline_value = name.find('=') != std::string::npos;
    name.resize(std::min(name.size(), name.find('=')));
    const option_spec* spec = find_spec(global, name);
    if (!spec) {
      std::string names;
      for (const auto& g : global)
        names += (names.empty() ? "--" : ", --") + g.name;
      throw usage_error("unknown option '" + argv[i] + "' before the command (only " + names +
                        " may come before it; a command's own options go after it)");
    }
    moved.push_back(argv[i]);
    out.leading_options.push_back(name);
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= argv.size())
        throw usage_error("option '--" + name + "' needs a value");
      moved.push_back(argv[++i]);
    }
  }
  if (i < argv.size())
    out.command = argv[i++];
  out.args.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  out.args.insert(out.args.end(), moved.begin(), moved.end());
  return out;
}

std::vector<option_spec> merge_options(std::vector<option_spec> a, const std::vector<option_spec>& b) {
  for (const auto& spec : b)
    if (!find_spec(a, spec.name))
      a.push_back(spec);
  return a;
}

int64_t parse_integer(const std::string& text, const std::string& what, int64_t min, int64_t max) {
  const std::string range =
    " (expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ")";
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(text[0])))
    throw usage_error(what + " '" + text + "' is not a number" + range);
  if (errno == ERANGE || value < min || value > max)
    throw usage_error(what + " '" + text + "' is out of range" + range);
  return value;
}

uint16_t parse_port(const std::string& text, const std::string& what, bool allow_zero) {
  return static_cast<uint16_t>(parse_integer(text, what, allow_zero ? 0 : 1, 65535));
}

std::string require_value(const parsed_options& options, const std::string& name) {
  auto value = options.value(name);
  if (!value)
    throw usage_error("missing required option '--" + name + "'");
  return *value;
}

} // namespace volley::cli
