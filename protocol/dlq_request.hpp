#pragma once
// The dead-letter queue's control lines: `dlq.list`, `dlq.retry`,
// `dlq.delete`, and the JSON answer of a listing. An entry's key is
// "<subscriber>/<event seq>".

#include "storage/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace volley {

struct dlq_request {
  std::optional<std::string> subscriber;
  std::optional<delivery_key> key;   // retry/delete one entry
  std::optional<delivery_key> after; // list: page after this key
  size_t limit = 100;
};

// Fills `out` from a control line; returns "" or what is wrong. retry and
// delete need "key" or "subscriber".
std::string parse_dlq_request(const std::string& op, const std::string& line, dlq_request& out);

std::string format_delivery_key(const delivery_key& key);
std::optional<delivery_key> parse_delivery_key(const std::string& text);

// {"ok":true,"entries":[...],"next":"<key>"|null}
std::string dlq_list_line(const std::vector<dlq_record>& entries, bool more);

} // namespace volley
