#include "cli/reply_tables.hpp"

#include "cli/reply_cells.hpp"
#include "cli/text_table.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace volley::cli {

namespace {

using align = text_table::align;

constexpr size_t name_width = 32;  // subscriber names, event ids, types, keys
constexpr size_t error_width = 48; // error texts can be whole paragraphs
constexpr size_t url_width = 64;

// The array member `name` of the reply; nullptr when it is not an array.
const json_value* array_member(const rapidjson::Document& document, const char* name) {
  const json_value* list = member(&document, name);
  return list && list->IsArray() ? list : nullptr;
}

std::string table_or(const text_table& table, const char* when_empty) {
  return table.rows() == 0 ? std::string(when_empty) + "\n" : table.render();
}

// [4,0,1,0] as "4/0/1/0".
// The integers of an array joined by `separator`; "-" when empty.
std::string joined_cell(const json_value* counts, char separator) {
  if (!counts || !counts->IsArray() || counts->Empty())
    return "-";
  std::string out;
  for (const auto& count : counts->GetArray()) {
    if (!out.empty())
      out += separator;
    out += count_cell(&count);
  }
  return out;
}

std::string priorities_cell(const json_value* counts) { return joined_cell(counts, '/'); }

// Entry `index` of an array member, nullptr past its end.
const json_value* element(const json_value* array, rapidjson::SizeType index) {
  if (!array || !array->IsArray() || index >= array->Size())
    return nullptr;
  return &(*array)[index];
}

} // namespace

std::optional<std::string> render_health_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* subscribers = member(&*document, "subscribers");
  if (!subscribers || !subscribers->IsObject())
    return std::nullopt;
  text_table table({{"NAME", align::left, name_width}, {"STATUS"}});
  table.add_row({node_row_name, text_cell(member(&*document, "status"))});
  for (const auto& entry : subscribers->GetObject())
    table.add_row(
      {std::string(entry.name.GetString(), entry.name.GetStringLength()), text_cell(&entry.value)});
  return table.render();
}

std::optional<std::string> render_subscribers_table(std::string_view reply, int64_t now_ms) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* subscribers = array_member(*document, "subscribers");
  if (!subscribers)
    return std::nullopt;
  text_table table({{"SUBSCRIBER", align::left, name_width},
                    {"STATUS"},
                    {"ENABLED"},
                    {"BREAKER"},
                    {"FAILS", align::right},
                    {"IN-FLIGHT", align::right},
                    {"QUEUED", align::right},
                    {"RETRY", align::right},
                    {"READY P0/1/2/3", align::right},
                    {"LAST SUCCESS"},
                    {"LAST FAILURE"},
                    {"LAST ERROR", align::left, error_width}});
  for (const auto& subscriber : subscribers->GetArray())
    table.add_row(
      {text_cell(member(&subscriber, "subscriber")), text_cell(member(&subscriber, "status")),
       yes_no_cell(member(&subscriber, "enabled")), text_cell(member(&subscriber, "breaker")),
       count_cell(member(&subscriber, "consecutive_failures")), count_cell(member(&subscriber, "in_flight")),
       queued_cell(subscriber), count_cell(member(&subscriber, "waiting_retry")),
       priorities_cell(member(&subscriber, "ready_by_priority")),
       age_cell(member(&subscriber, "last_success"), now_ms),
       age_cell(member(&subscriber, "last_failure"), now_ms), text_cell(member(&subscriber, "last_error"))});
  if (table.rows() == 0)
    return std::string("(no subscribers configured)\n");
  return table.render() +
         "FAILS: failed attempts in a row; QUEUED: waiting in memory (+: more on disk);\n"
         "RETRY: of those, waiting for a retry; READY: of those, ready to send by priority\n";
}

std::optional<std::string> render_failures_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* failures = array_member(*document, "failures");
  if (!failures)
    return std::nullopt;
  text_table table({{"AT"},
                    {"SUBSCRIBER", align::left, name_width},
                    {"EVENT", align::left, name_width},
                    {"TYPE", align::left, name_width},
                    {"ATTEMPT", align::right},
                    {"STATUS", align::right},
                    {"ERROR"}}); // last: shown whole, the reason is what the operator acts on
  // The daemon lists them by when each subscriber reported, which can be a
  // second out of order; the times (same-width RFC 3339) sort as text.
  std::vector<const json_value*> newest_first;
  for (const auto& failure : failures->GetArray())
    newest_first.push_back(&failure);
  std::stable_sort(newest_first.begin(), newest_first.end(), [](const json_value* a, const json_value* b) {
    return text_cell(member(a, "at")) > text_cell(member(b, "at"));
  });
  for (const json_value* failure : newest_first)
    table.add_row({text_cell(member(failure, "at")), text_cell(member(failure, "subscriber")),
                   text_cell(member(failure, "event_id")), text_cell(member(failure, "type")),
                   count_cell(member(failure, "attempt")), http_status_cell(member(failure, "status")),
                   text_cell(member(failure, "error"))});
  return table_or(table, "(no failed attempts since the daemon started)");
}

std::optional<std::string> render_queue_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* subscribers = array_member(*document, "subscribers");
  if (!subscribers)
    return std::nullopt;
  text_table table({{"SUBSCRIBER", align::left, name_width},
                    {"CONFIGURED"},
                    {"PENDING", align::right},
                    {"P0", align::right},
                    {"P1", align::right},
                    {"P2", align::right},
                    {"P3", align::right}});
  for (const auto& subscriber : subscribers->GetArray()) {
    const json_value* priorities = member(&subscriber, "by_priority");
    table.add_row({text_cell(member(&subscriber, "subscriber")),
                   yes_no_cell(member(&subscriber, "configured")), count_cell(member(&subscriber, "pending")),
                   count_cell(element(priorities, 0)), count_cell(element(priorities, 1)),
                   count_cell(element(priorities, 2)), count_cell(element(priorities, 3))});
  }
  return count_cell(member(&*document, "pending")) + " deliveries pending on disk, " +
         count_cell(member(&*document, "dlq")) + " in the dead-letter queue\n\n" +
         table_or(table, "(no subscribers, nothing pending)") +
         "P0..P3: pending by priority; CONFIGURED no: left on disk by a removed subscriber\n";
}

std::optional<std::string> render_test_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document || !member(&*document, "outcome"))
    return std::nullopt;
  const json_value* root = &*document;
  text_table table({{"SUBSCRIBER", align::left, name_width},
                    {"URL", align::left, url_width},
                    {"STATUS", align::right},
                    {"OUTCOME", align::left, error_width},
                    {"LATENCY", align::right}});
  table.add_row({text_cell(member(root, "subscriber")), text_cell(member(root, "url")),
                 http_status_cell(member(root, "status")), text_cell(member(root, "outcome")),
                 latency_cell(member(root, "latency_ms"), true)});
  return table.render();
}

std::optional<std::string> render_enabled_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document || !member(&*document, "enabled"))
    return std::nullopt;
  text_table table({{"SUBSCRIBER", align::left, name_width}, {"ENABLED"}});
  table.add_row({text_cell(member(&*document, "subscriber")), yes_no_cell(member(&*document, "enabled"))});
  return table.render();
}

std::optional<std::string> render_reload_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  // Subscribers that stay are "updated" when their settings changed and
  // "unchanged" otherwise (an older daemon sends no "unchanged").
  const char* const changes[] = {"added", "removed", "updated", "unchanged"};
  text_table table({{"SUBSCRIBER", align::left, name_width}, {"CHANGE"}});
  for (const char* change : changes) {
    const json_value* names = array_member(*document, change);
    if (!names && std::string_view{change} == "unchanged")
      continue;
    if (!names)
      return std::nullopt;
    for (const auto& subscriber : names->GetArray())
      table.add_row({text_cell(&subscriber), change});
  }
  return table_or(table, "reloaded: no subscribers configured");
}

std::optional<std::string> render_dlq_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* entries = array_member(*document, "entries");
  if (!entries)
    return std::nullopt;
  text_table table({{"KEY", align::left, name_width},
                    {"EVENT", align::left, name_width},
                    {"TYPE", align::left, name_width},
                    {"ATTEMPTS", align::right},
                    {"LAST STATUS", align::right},
                    {"FAILED AT"},
                    {"LAST ERROR"}}); // last: shown whole, the reason is what the operator acts on
  for (const auto& entry : entries->GetArray())
    table.add_row({text_cell(member(&entry, "key")), text_cell(member(&entry, "event_id")),
                   text_cell(member(&entry, "type")), count_cell(member(&entry, "attempts")),
                   http_status_cell(member(&entry, "last_status")), text_cell(member(&entry, "failed")),
                   text_cell(member(&entry, "last_error"))});
  std::string out = table_or(table, "(no dead-lettered deliveries)");
  const json_value* next = member(&*document, "next");
  if (next && next->IsString())
    out += "more entries: add --after " + text_cell(next) + " for the next page\n";
  return out;
}

std::optional<std::string> render_dlq_count(std::string_view reply, const std::string& done) {
  const auto document = parse_reply(reply);
  const json_value* count = document ? member(&*document, "count") : nullptr;
  if (!count || !count->IsInt64())
    return std::nullopt;
  const int64_t entries = count->GetInt64();
  return done + " " + std::to_string(entries) + (entries == 1 ? " entry\n" : " entries\n");
}

std::optional<std::string> render_event_log(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* deliveries = array_member(*document, "deliveries");
  if (!deliveries)
    return std::nullopt;
  std::string out = text_cell(member(&*document, "id")) + "  " + text_cell(member(&*document, "type")) +
                    "  created " + text_cell(member(&*document, "created")) + "\n";
  text_table table({{"SUBSCRIBER", align::left, name_width},
                    {"AT"},
                    {"ATTEMPT", align::right},
                    {"ANSWER", align::left, error_width},
                    {"LATENCY", align::right},
                    {"OUTCOME"}});
  for (const auto& d : deliveries->GetArray()) {
    const json_value* attempts = member(&d, "attempts");
    if (!attempts || !attempts->IsArray())
      continue;
    for (const auto& a : attempts->GetArray()) {
      const json_value* status = member(&a, "status");
      const bool answered = status && status->IsInt() && status->GetInt() != 0;
      auto outcome = text_cell(member(&a, "outcome"));
      const json_value* replay = member(&a, "replay");
      if (replay && replay->IsBool() && replay->GetBool() && outcome != "replay")
        outcome += " (replay)";
      table.add_row({text_cell(member(&d, "subscriber")), text_cell(member(&a, "at")),
                     count_cell(member(&a, "attempt")),
                     answered ? http_status_cell(status) : text_cell(member(&a, "error")),
                     latency_cell(member(&a, "latency_ms"), answered), outcome});
    }
  }
  return out + table_or(table, "(no attempts logged yet)");
}

std::optional<std::string> render_attempts_table(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* attempts = array_member(*document, "attempts");
  if (!attempts)
    return std::nullopt;
  text_table table({{"AT"},
                    {"SUBSCRIBER", align::left, name_width},
                    {"EVENT", align::left, name_width},
                    {"ATTEMPT", align::right},
                    {"ANSWER", align::left, error_width},
                    {"LATENCY", align::right},
                    {"OUTCOME"}});
  for (const auto& a : attempts->GetArray()) {
    const json_value* status = member(&a, "status");
    const bool answered = status && status->IsInt() && status->GetInt() != 0;
    table.add_row({text_cell(member(&a, "at")), text_cell(member(&a, "subscriber")),
                   text_cell(member(&a, "event_id")), count_cell(member(&a, "attempt")),
                   answered ? http_status_cell(status) : text_cell(member(&a, "error")),
                   latency_cell(member(&a, "latency_ms"), answered), text_cell(member(&a, "outcome"))});
  }
  return table_or(table, "(no attempts logged)");
}

std::optional<std::string> render_replayed(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* to = array_member(*document, "replayed");
  if (!to)
    return std::nullopt;
  std::string names;
  for (const auto& n : to->GetArray())
    if (n.IsString())
      names += (names.empty() ? "" : ", ") + std::string{n.GetString(), n.GetStringLength()};
  return "replaying " + text_cell(member(&*document, "id")) + " to " + names + "\n";
}

std::optional<std::string> render_cluster(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  std::string out = "node " + text_cell(member(&*document, "node")) + " in group " +
                    text_cell(member(&*document, "group")) + ", partitions " +
                    joined_cell(member(&*document, "partitions"), ',') + "\n";
  if (const json_value* error = member(&*document, "members_error"))
    return out + "members: the brokers did not say (" + text_cell(error) + ")\n";
  const json_value* members = array_member(*document, "members");
  if (!members)
    return std::nullopt;
  text_table table({{"MEMBER", align::left, name_width}, {"CLIENT"}, {"HOST"}, {"PARTITIONS"}});
  for (const auto& m : members->GetArray())
    table.add_row({text_cell(member(&m, "member")), text_cell(member(&m, "client")),
                   text_cell(member(&m, "host")), joined_cell(member(&m, "partitions"), ',')});
  return out + table_or(table, "(the group has no members)");
}

} // namespace volley::cli
