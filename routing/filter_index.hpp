#pragma once
// Precompiled event filters: which targets (subscribers, priority rules)
// want an event type. Exact types are one hash lookup; wildcard patterns are
// grouped by their literal prefix, so an event only meets the patterns whose
// prefix it starts with, never a scan over every subscriber.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace volley {

class filter_index {
public:
  // Adds target `id` with its patterns; no patterns means every event.
  void add(size_t id, const std::vector<std::string>& patterns);

  // Appends the matching target ids to `out`, ascending and without repeats.
  void match(std::string_view type, std::vector<size_t>& out) const;

  size_t size() const { return targets_; }

private:
  struct wildcard {
    std::string pattern;
    size_t id;
  };

  size_t targets_ = 0;
  std::vector<size_t> match_all_;
  std::unordered_map<std::string, std::vector<size_t>> exact_;
  std::unordered_map<std::string, std::vector<wildcard>> by_prefix_;
  std::vector<size_t> prefix_lengths_; // distinct, ascending
};

} // namespace volley
