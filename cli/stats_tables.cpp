#include "cli/stats_tables.hpp"

#include "cli/reply_cells.hpp"
#include "cli/text_table.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace volley::cli {

namespace {

using align = text_table::align;

constexpr size_t max_name_width = 32;
constexpr size_t max_outcomes_width = 48;

// "300 s" as "5m", "90 s" as "90s", "3600 s" as "1h".
std::string span_text(int64_t seconds) {
  if (seconds > 0 && seconds % 3600 == 0)
    return std::to_string(seconds / 3600) + "h";
  if (seconds > 0 && seconds % 60 == 0)
    return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

// The span a window name stands for ("1m", "24h"), to sort them by; -1 for a
// name this CLI does not know, which sorts last.
int64_t window_seconds(const std::string& name) {
  if (name.size() < 2)
    return -1;
  const std::string number = name.substr(0, name.size() - 1);
  if (number.find_first_not_of("0123456789") != std::string::npos || number.size() > 6)
    return -1;
  const int64_t count = std::stoll(number);
  switch (name.back()) {
    case 's':
      return count;
    case 'm':
      return count * 60;
    case 'h':
      return count * 3600;
    case 'd':
      return count * 86400;
  }
  return -1;
}

// Shortest first; names this CLI does not know go last.
bool shorter_window(const std::string& a, const std::string& b) {
  const int64_t left = window_seconds(a), right = window_seconds(b);
  if (left < 0 || right < 0)
    return left >= 0 && right < 0;
  return left < right;
}

struct named_window {
  std::string name;
  const json_value* counts;
};

// The members of a "windows" object, shortest first; a name given twice
// (the daemon's "24h" again for --hours 24) is shown once.
std::vector<named_window> sorted_windows(const json_value* windows) {
  std::vector<named_window> out;
  if (!windows || !windows->IsObject())
    return out;
  for (const auto& entry : windows->GetObject()) {
    std::string name(entry.name.GetString(), entry.name.GetStringLength());
    const bool seen =
      std::any_of(out.begin(), out.end(), [&](const named_window& known) { return known.name == name; });
    if (!seen)
      out.push_back({std::move(name), &entry.value});
  }
  std::stable_sort(out.begin(), out.end(), [](const named_window& a, const named_window& b) {
    return shorter_window(a.name, b.name);
  });
  return out;
}

// {"200":40,"503":2} as "200:40 503:2".
std::string outcomes_cell(const json_value* outcomes) {
  if (!outcomes || !outcomes->IsObject() || outcomes->ObjectEmpty())
    return "-";
  std::string out;
  for (const auto& entry : outcomes->GetObject()) {
    if (!out.empty())
      out += ' ';
    out.append(entry.name.GetString(), entry.name.GetStringLength());
    out += ':' + count_cell(&entry.value);
  }
  return out;
}

const json_value* subscriber_list(const json_value& reply) {
  const json_value* list = member(&reply, "subscribers");
  return list && list->IsArray() ? list : nullptr;
}

std::string health_window_table(const json_value& reply) {
  const json_value* node = member(&reply, "node");
  const json_value* subscribers = subscriber_list(reply);
  text_table table({{"NAME", align::left, max_name_width},
                    {"STATUS"},
                    {"BREAKER"},
                    {"ENABLED"},
                    {"DELIVERED", align::right},
                    {"FAILED", align::right},
                    {"DEAD", align::right},
                    {"SUCCESS", align::right},
                    {"P50", align::right},
                    {"P99", align::right},
                    {"QUEUED", align::right},
                    {"IN-FLIGHT", align::right}});
  auto counts_cells = [](const json_value* counts) {
    const bool measured = has_attempts(counts);
    return std::vector<std::string>{count_cell(member(counts, "delivered")),
                                    count_cell(member(counts, "failed")),
                                    count_cell(member(counts, "dead_lettered")),
                                    percent_cell(member(counts, "success_rate"), measured),
                                    latency_cell(member(counts, "p50_ms"), measured),
                                    latency_cell(member(counts, "p99_ms"), measured)};
  };

  // The node reports no in-flight count of its own: it is the subscribers' sum.
  int64_t in_flight = 0;
  if (subscribers)
    for (const auto& subscriber : subscribers->GetArray())
      in_flight += integer_or(member(&subscriber, "in_flight"), 0);
  std::vector<std::string> row = {node_row_name, text_cell(member(node, "status")), "-", "-"};
  for (auto& cell : counts_cells(node))
    row.push_back(std::move(cell));
  row.push_back(count_cell(member(node, "queued")));
  row.push_back(subscribers ? std::to_string(in_flight) : "-");
  table.add_row(std::move(row));

  if (subscribers) {
    for (const auto& subscriber : subscribers->GetArray()) {
      row = {text_cell(member(&subscriber, "subscriber")), text_cell(member(&subscriber, "status")),
             text_cell(member(&subscriber, "breaker")), yes_no_cell(member(&subscriber, "enabled"))};
      for (auto& cell : counts_cells(&subscriber))
        row.push_back(std::move(cell));
      row.push_back(queued_cell(subscriber));
      row.push_back(count_cell(member(&subscriber, "in_flight")));
      table.add_row(std::move(row));
    }
  }
  return table.render();
}

void add_window_rows(text_table& table, const std::string& name, const json_value& entity) {
  auto windows = sorted_windows(member(&entity, "windows"));
  if (const json_value* total = member(&entity, "since_start"))
    windows.push_back({"since start", total});
  bool first = true;
  for (const auto& [window, counts] : windows) {
    const bool measured = has_attempts(counts);
    table.add_row(
      {first ? name : "", window, count_cell(member(counts, "delivered")),
       count_cell(member(counts, "failed")), count_cell(member(counts, "dead_lettered")),
       count_cell(member(counts, "attempts")), percent_cell(member(counts, "success_rate"), measured),
       latency_cell(member(counts, "avg_ms"), measured), latency_cell(member(counts, "p50_ms"), measured),
       latency_cell(member(counts, "p99_ms"), measured), count_cell(member(counts, "slow")),
       decimal_cell(member(counts, "avg_attempts"), 2, integer_or(member(counts, "delivered"), 0) > 0),
       outcomes_cell(member(counts, "outcomes"))});
    first = false;
  }
}

std::string windows_table(const json_value& reply) {
  text_table table({{"NAME", align::left, max_name_width},
                    {"WINDOW"},
                    {"DELIVERED", align::right},
                    {"FAILED", align::right},
                    {"DEAD", align::right},
                    {"ATTEMPTS", align::right},
                    {"SUCCESS", align::right},
                    {"AVG", align::right},
                    {"P50", align::right},
                    {"P99", align::right},
                    {"SLOW", align::right},
                    {"TRIES", align::right},
                    {"OUTCOMES", align::left, max_outcomes_width}});
  if (const json_value* node = member(&reply, "node"))
    add_window_rows(table, node_row_name, *node);
  if (const json_value* subscribers = subscriber_list(reply))
    for (const auto& subscriber : subscribers->GetArray())
      add_window_rows(table, text_cell(member(&subscriber, "subscriber")), subscriber);
  return table.render();
}

// One row per type: deliveries per window, then how the longest window went.
// No dead-lettered, latency or outcome columns: the daemon does not count
// those per event type (they would always read 0).
std::string event_types_table(const json_value& types) {
  std::vector<std::string> window_names;
  for (const auto& type : types.GetArray())
    for (const auto& window : sorted_windows(member(&type, "windows")))
      if (std::find(window_names.begin(), window_names.end(), window.name) == window_names.end())
        window_names.push_back(window.name);
  std::stable_sort(window_names.begin(), window_names.end(), shorter_window);
  const std::string longest = window_names.empty() ? "" : window_names.back();
  const std::string suffix = longest.empty() ? "" : " " + longest;

  std::vector<text_table::column> columns = {{"EVENT TYPE", align::left, max_name_width}};
  for (const auto& name : window_names)
    columns.push_back({"DELIVERED " + name, align::right});
  for (const char* title : {"ATTEMPTS", "FAILED", "SUCCESS"})
    columns.push_back({title + suffix, align::right});
  text_table table(std::move(columns));

  for (const auto& type : types.GetArray()) {
    const json_value* windows = member(&type, "windows");
    std::vector<std::string> row = {text_cell(member(&type, "type"))};
    for (const auto& name : window_names)
      row.push_back(count_cell(member(member(windows, name.c_str()), "delivered")));
    const json_value* counts = member(windows, longest.c_str());
    row.push_back(count_cell(member(counts, "attempts")));
    row.push_back(count_cell(member(counts, "failed")));
    row.push_back(percent_cell(member(counts, "success_rate"), has_attempts(counts)));
    table.add_row(std::move(row));
  }
  return table.render();
}

} // namespace

std::optional<std::string> render_stats_tables(std::string_view reply) {
  const auto document = parse_reply(reply);
  if (!document)
    return std::nullopt;
  const json_value* node = member(&*document, "node");
  if (!node || !node->IsObject())
    return std::nullopt;

  const int64_t window_s = integer_or(member(node, "window_s"), 0);
  std::string out = "node " + text_cell(member(node, "status")) + ": " + count_cell(member(node, "queued")) +
                    " deliveries pending, " + count_cell(member(node, "dlq")) +
                    " in the dead-letter queue\n\n";
  out += window_s > 0 ? "last " + span_text(window_s) + " (monitor.window_s, what health is judged on):\n"
                      : "the health window:\n";
  out += health_window_table(*document);
  out += "QUEUED: (node) pending on disk; a subscriber: waiting in memory, + when more wait on disk\n";

  out += "\nby window (TRIES: attempts per delivered delivery):\n";
  out += windows_table(*document);

  const json_value* types = member(&*document, "event_types");
  out += "\nevent types:\n";
  if (types && types->IsArray() && !types->Empty())
    out += event_types_table(*types);
  else
    out += "(none yet)\n";
  return out;
}

} // namespace volley::cli
