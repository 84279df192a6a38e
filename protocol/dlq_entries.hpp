#pragma once
// Dead-letter entries as operators see them: an entry's key is
// "<subscriber>/<event seq>", and a listing is one JSON answer.

#include "storage/records.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley {

std::string format_delivery_key(const delivery_key& key);
std::optional<delivery_key> parse_delivery_key(const std::string& text);

// What dlq.retry and dlq.delete answer for a key that is not in the
// dead-letter queue; the HTTP API answers such an error 404.
std::string no_dlq_entry_error(const delivery_key& key);
bool is_no_dlq_entry_error(std::string_view error);

// {"ok":true,"entries":[...],"next":"<key>"|null}
std::string dlq_list_line(const std::vector<dlq_record>& entries, bool more);

} // namespace volley
