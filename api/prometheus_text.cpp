#include "api/prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace volley {

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_letter(name[0]) || name[0] == '_' || name[0] == ':'))
    return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_' || c == ':'; });
}

// Names starting with "__" are reserved for Prometheus itself.
bool valid_label_name(std::string_view name) {
  if (name.empty() || !(is_letter(name[0]) || name[0] == '_') || name.substr(0, 2) == "__")
    return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_'; });
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Shortest text that reads back as the same double; the format's spellings
// for the special values.
std::string format_value(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// Backslash and newline always; the double quote inside label values.
std::string escape(std::string_view text, bool in_quotes) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && in_quotes)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

// {a="x",b="y"} with `extra` (already rendered, e.g. le="1") last.
std::string render_labels(const prometheus_labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty())
    return {};
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1)
      out += ',';
    out += name + "=\"" + escape(value, true) + "\"";
  }
  if (!extra.empty()) {
    if (out.size() > 1)
      out += ',';
    out += extra;
  }
  return out + "}";
}

const char* type_name(int type) {
  static const char* const names[] = {"counter", "gauge", "histogram"};
  return names[type];
}

} // namespace

prometheus_text::family& prometheus_text::family_for(const std::string& name, metric_type type,
                                                     std::string_view help) {
  if (!valid_metric_name(name))
    throw std::invalid_argument("metric name \"" + name + "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  if (help.empty())
    throw std::invalid_argument("metric " + name + " needs help text");
  if (auto it = index_.find(name); it != index_.end()) {
    auto& f = families_[it->second];
    if (f.type != type)
      throw std::invalid_argument("metric " + name + " is already a " + type_name(static_cast<int>(f.type)));
    if (f.help != help)
      throw std::invalid_argument("metric " + name + " is already described differently");
    return f;
  }
  std::vector<std::string> names{name};
  if (type == metric_type::histogram)
    names = {name + "_bucket", name + "_sum", name + "_count"};
  for (const auto& n : names)
    if (sample_names_.count(n))
      throw std::invalid_argument("metric " + name + ": samples named " + n +
                                  " already belong to another metric");
  sample_names_.insert(names.begin(), names.end());
  index_.emplace(name, families_.size());
  families_.push_back(family{name, type, std::string(help), {}, {}});
  return families_.back();
}

std::string prometheus_text::series_key(const std::string& name, metric_type type,
                                        const prometheus_labels& labels) {
  auto sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& label = sorted[i].first;
    if (!valid_label_name(label))
      throw std::invalid_argument("metric " + name + ": label name \"" + label +
                                  "\" is not [a-zA-Z_][a-zA-Z0-9_]* (nor starting with __)");
    if (type == metric_type::histogram && label == "le")
      throw std::invalid_argument("metric " + name + ": a histogram sets the label le itself");
    if (i > 0 && sorted[i - 1].first == label)
      throw std::invalid_argument("metric " + name + ": label " + label + " given twice");
  }
  return render_labels(sorted);
}

prometheus_text::family& prometheus_text::claim_series(const std::string& name, metric_type type,
                                                       std::string_view help,
                                                       const prometheus_labels& labels) {
  auto key = series_key(name, type, labels);
  if (auto it = index_.find(name); it != index_.end() && families_[it->second].series.count(key))
    throw std::invalid_argument("metric " + name + ": the series " + render_labels(labels) +
                                " was written twice");
  auto& f = family_for(name, type, help);
  f.series.insert(std::move(key));
  return f;
}

void prometheus_text::counter(std::string_view name, std::string_view help, double value,
                              const prometheus_labels& labels) {
  std::string full(name);
  if (!ends_with(full, "_total"))
    full += "_total";
  if (!(value >= 0))
    throw std::invalid_argument("counter " + full + " must be >= 0, not " + format_value(value));
  auto& f = claim_series(full, metric_type::counter, help, labels);
  f.samples += f.name + render_labels(labels) + " " + format_value(value) + "\n";
}

void prometheus_text::gauge(std::string_view name, std::string_view help, double value,
                            const prometheus_labels& labels) {
  auto& f = claim_series(std::string(name), metric_type::gauge, help, labels);
  f.samples += f.name + render_labels(labels) + " " + format_value(value) + "\n";
}

void prometheus_text::histogram(std::string_view name, std::string_view help,
                                const prometheus_histogram& value, const prometheus_labels& labels) {
  const std::string full(name);
  const auto& bounds = value.upper_bounds;
  if (value.counts.size() != bounds.size() + 1)
    throw std::invalid_argument("histogram " + full + ": " + std::to_string(bounds.size()) + " bounds need " +
                                std::to_string(bounds.size() + 1) + " counts (the last for +Inf), not " +
                                std::to_string(value.counts.size()));
  for (size_t i = 0; i < bounds.size(); ++i)
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i])))
      throw std::invalid_argument("histogram " + full +
                                  ": bucket bounds must be finite and strictly ascending");
  auto& f = claim_series(full, metric_type::histogram, help, labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += value.counts[i];
    const std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
    f.samples += f.name + "_bucket" + render_labels(labels, "le=\"" + le + "\"") + " " +
                 std::to_string(cumulative) + "\n";
  }
  f.samples += f.name + "_sum" + render_labels(labels) + " " + format_value(value.sum) + "\n";
  f.samples += f.name + "_count" + render_labels(labels) + " " + std::to_string(cumulative) + "\n";
}

std::string prometheus_text::str() const {
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + " " + escape(f.help, false) + "\n";
    out += "# TYPE " + f.name + " " + type_name(static_cast<int>(f.type)) + "\n";
    out += f.samples;
  }
  return out;
}

} // namespace volley
