#include "cluster/kafka_property_scope.hpp"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace volley {
namespace {

std::string trimmed(const std::string& text) {
  auto first = text.find_first_not_of(' ');
  if (first == std::string::npos)
    return {};
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// rd_kafka_conf_properties_show() prints rows "name | C/P | range | ...",
// C/P being "C" (consumer), "P" (producer) or "*" (both).
std::map<std::string, kafka_property_scope> read_property_table() {
  std::map<std::string, kafka_property_scope> scopes;
  char* text = nullptr;
  size_t size = 0;
  FILE* out = ::open_memstream(&text, &size);
  if (out == nullptr)
    return scopes; // every property then applies everywhere: noisier, still correct
  rd_kafka_conf_properties_show(out);
  std::fclose(out);
  std::istringstream lines(std::string(text, size));
  std::free(text);
  for (std::string line; std::getline(lines, line);) {
    auto bar = line.find('|');
    if (bar == std::string::npos)
      continue;
    auto next_bar = line.find('|', bar + 1);
    std::string name = trimmed(line.substr(0, bar));
    std::string scope = trimmed(line.substr(bar + 1, next_bar - bar - 1));
    if (scope == "C")
      scopes[name] = kafka_property_scope::consumer;
    else if (scope == "P")
      scopes[name] = kafka_property_scope::producer;
  }
  return scopes;
}

} // namespace

kafka_property_scope scope_of_kafka_property(const std::string& name) {
  static const auto scopes = read_property_table();
  auto found = scopes.find(name);
  return found == scopes.end() ? kafka_property_scope::any : found->second;
}

} // namespace volley
