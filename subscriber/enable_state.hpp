#pragma once
// Whether a subscriber sends, why not, and which changes outlast a restart.
// The rules, in one place:
// - The config file's "enabled" applies at every start and is never
//   recorded on disk.
// - A 410 Gone, disable_after_hours or an operator's disable is recorded
//   (it outlasts restarts, SIGTERM and kill -9 alike); a 410 keeps an
//   operator's earlier reason.
// - An operator's enable always deletes the record (a stale one would
//   disable the subscriber again at the next start).
// - A reload that changes the file's "enabled" applies it: to true it
//   enables and deletes the record, to false it disables without one. A
//   reload that leaves "enabled" as it was keeps what an operator or a 410
//   decided.
// Plain logic: the caller writes what a change asks to record.

#include "storage/records.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace volley {

struct enable_change {
  bool changed = false;                    // enabled flipped
  std::optional<subscriber_status> record; // to write: a disable to record, or an enable (deletes it)
};

class enable_state {
public:
  static constexpr const char* gone_reason = "endpoint answered 410 Gone";
  static constexpr const char* operator_reason = "disabled by operator";
  static constexpr const char* config_reason = "\"enabled\": false in the config";

  enable_state(std::string subscriber, bool enabled_in_file);

  bool enabled() const { return enabled_; }
  const std::string& reason() const { return reason_; } // empty when enabled
  bool recorded() const { return recorded_; }           // a disable is on disk

  // At start: a disable recorded before this start holds.
  void restore(const std::string& reason);
  // Disabled on record: the endpoint answered 410, or (another reason) it
  // failed for disable_after_hours.
  enable_change gone(int64_t now_ms, const std::string& reason = gone_reason);
  enable_change by_operator(bool on, int64_t now_ms);
  enable_change by_reload(bool file_before, bool file_after, int64_t now_ms);

private:
  enable_change set(bool on, const std::string& reason, bool record, int64_t now_ms);

  std::string subscriber_;
  bool enabled_ = true;
  bool recorded_ = false;
  std::string reason_;
};

} // namespace volley
