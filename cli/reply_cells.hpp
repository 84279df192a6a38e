#pragma once
// Turns members of a daemon reply into table cells. A missing or mistyped
// member shows as "-" instead of failing, so a daemon one version apart
// still gets its answer printed.

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace volley::cli {

using json_value = rapidjson::Value;

// How tables name the node's own row: not a valid subscriber name (those are
// letters, digits, '.', '_' and '-'), so it cannot be mistaken for one.
constexpr const char* node_row_name = "(node)";

// The reply as a document; nullopt unless it is a JSON object.
std::optional<rapidjson::Document> parse_reply(std::string_view reply);

// `object[name]`; nullptr when `object` is null, not an object, or lacks it.
const json_value* member(const json_value* object, const char* name);

// A string as it is, any other scalar as JSON; "-" when missing or "".
std::string text_cell(const json_value* value);
// A whole number; "-" when missing.
std::string count_cell(const json_value* value);
// "yes" / "no"; "-" when missing.
std::string yes_no_cell(const json_value* value);
// An HTTP status; "-" for 0 (no answer: timeout, connection error).
std::string http_status_cell(const json_value* value);
// "99.5%"; "-" when missing or when `measured` is false (no attempts: the
// daemon reports 100 % then, which would read as a claim).
std::string percent_cell(const json_value* percent, bool measured);
// Milliseconds as "0.42ms", "3.2ms", "120ms" or "1.5s"; "-" as above and
// for 0 (no attempt got an answer).
std::string latency_cell(const json_value* ms, bool measured);
// A number with `decimals` places; "-" as above.
std::string decimal_cell(const json_value* value, int decimals, bool measured);
// How long ago an RFC 3339 time ("2026-11-23T13:40:00.123Z") was, as "4s
// ago", "12m ago", "3h ago" or "2d ago", against `now_ms` (unix ms);
// "never" when empty, the text itself when it is not such a time.
std::string age_cell(const json_value* rfc3339, int64_t now_ms);

// A subscriber's "queued" (in memory), with "+" when "backlog_on_disk" says
// more waits on disk.
std::string queued_cell(const json_value& subscriber);

// A whole-number member, `fallback` when missing.
int64_t integer_or(const json_value* value, int64_t fallback);
// True when the counts object had any attempts in its window.
bool has_attempts(const json_value* counts);

// "2026-11-23T13:40:00.123Z" as unix milliseconds; nullopt for other text.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

} // namespace volley::cli
