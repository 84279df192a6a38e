#include "cli/reply_cells.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

namespace volley::cli {

namespace {

constexpr const char* missing = "-";

std::string json_text(const json_value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string formatted(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil): no time zone database, no locale, no timegm().
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// Reads `width` digits at `text[at]`; nullopt when any is not a digit.
std::optional<int64_t> digits(std::string_view text, size_t at, size_t width) {
  int64_t value = 0;
  for (size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

} // namespace

std::optional<rapidjson::Document> parse_reply(std::string_view reply) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(reply.data(), reply.size());
  if (document.HasParseError() || !document.IsObject())
    return std::nullopt;
  return std::optional<rapidjson::Document>(std::move(document));
}

const json_value* member(const json_value* object, const char* name) {
  if (!object || !object->IsObject())
    return nullptr;
  const auto found = object->FindMember(name);
  return found == object->MemberEnd() ? nullptr : &found->value;
}

std::string text_cell(const json_value* value) {
  if (!value || value->IsNull())
    return missing;
  if (value->IsString())
    return value->GetStringLength() == 0 ? missing
                                         : std::string(value->GetString(), value->GetStringLength());
  return json_text(*value);
}

std::string count_cell(const json_value* value) {
  if (value && value->IsInt64())
    return std::to_string(value->GetInt64());
  if (value && value->IsUint64())
    return std::to_string(value->GetUint64());
  if (value && value->IsNumber())
    return formatted("%.0f", value->GetDouble());
  return missing;
}

std::string yes_no_cell(const json_value* value) {
  if (!value || !value->IsBool())
    return missing;
  return value->GetBool() ? "yes" : "no";
}

std::string http_status_cell(const json_value* value) {
  if (value && value->IsInt() && value->GetInt() == 0)
    return missing;
  return count_cell(value);
}

std::string percent_cell(const json_value* percent, bool measured) {
  if (!measured || !percent || !percent->IsNumber())
    return missing;
  return formatted("%.1f%%", percent->GetDouble());
}

std::string latency_cell(const json_value* ms, bool measured) {
  // 0 is the daemon's "nothing measured": attempts that got no answer
  // (connection errors, timeouts) have no latency.
  if (!measured || !ms || !ms->IsNumber() || ms->GetDouble() <= 0)
    return missing;
  const double value = ms->GetDouble();
  if (value < 1)
    return formatted("%.2fms", value);
  if (value < 10)
    return formatted("%.1fms", value);
  if (value < 1000)
    return formatted("%.0fms", value);
  return formatted("%.1fs", value / 1000);
}

std::string decimal_cell(const json_value* value, int decimals, bool measured) {
  if (!measured || !value || !value->IsNumber())
    return missing;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value->GetDouble());
  return buffer;
}

std::string age_cell(const json_value* rfc3339, int64_t now_ms) {
  if (!rfc3339 || !rfc3339->IsString())
    return missing;
  const std::string_view text(rfc3339->GetString(), rfc3339->GetStringLength());
  if (text.empty())
    return "never";
  const auto at_ms = parse_rfc3339_ms(text);
  if (!at_ms)
    return std::string(text);
  const int64_t seconds = (now_ms - *at_ms) / 1000;
  if (seconds < 0)
    return "just now"; // the daemon's clock is ahead of ours
  if (seconds < 60)
    return std::to_string(seconds) + "s ago";
  if (seconds < 3600)
    return std::to_string(seconds / 60) + "m ago";
  if (seconds < 86400)
    return std::to_string(seconds / 3600) + "h ago";
  return std::to_string(seconds / 86400) + "d ago";
}

std::string queued_cell(const json_value& subscriber) {
  const json_value* on_disk = member(&subscriber, "backlog_on_disk");
  const bool more = on_disk && on_disk->IsBool() && on_disk->GetBool();
  return count_cell(member(&subscriber, "queued")) + (more ? "+" : "");
}

int64_t integer_or(const json_value* value, int64_t fallback) {
  return value && value->IsInt64() ? value->GetInt64() : fallback;
}

bool has_attempts(const json_value* counts) { return integer_or(member(counts, "attempts"), 0) > 0; }

std::optional<int64_t> parse_rfc3339_ms(std::string_view text) {
  // Exactly what the daemon writes: "YYYY-MM-DDTHH:MM:SS.mmmZ".
  constexpr std::string_view shape = "0000-00-00T00:00:00.000Z";
  if (text.size() != shape.size())
    return std::nullopt;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != '0' && text[i] != shape[i])
      return std::nullopt;
  const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2),
             millis = digits(text, 20, 3);
  if (!year || !month || !day || !hour || !minute || !second || !millis)
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  const int64_t days = days_from_civil(*year, *month, *day);
  return ((days * 24 + *hour) * 60 + *minute) * 60 * 1000 + *second * 1000 + *millis;
}

} // namespace volley::cli
