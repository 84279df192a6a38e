#include "cli/json_render.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace volley::cli {

namespace {

using json_value = rapidjson::Value;

bool is_scalar(const json_value& value) { return !value.IsObject() && !value.IsArray(); }

std::string scalar_text(const json_value& value) {
  if (value.IsString())
    return {value.GetString(), value.GetStringLength()};
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// An array of scalars reads best on one line: "events: order.*, invoice.paid".
bool all_scalars(const json_value& array) {
  for (const auto& item : array.GetArray())
    if (!is_scalar(item))
      return false;
  return true;
}

std::string inline_array(const json_value& array) {
  if (array.Empty())
    return "(none)";
  std::string out;
  for (const auto& item : array.GetArray()) {
    if (!out.empty())
      out += ", ";
    out += scalar_text(item);
  }
  return out;
}

void render_value(const json_value& value, const std::string& indent, std::string& out);

void render_object(const json_value& object, const std::string& indent, std::string& out) {
  for (const auto& member : object.GetObject()) {
    out += indent;
    out.append(member.name.GetString(), member.name.GetStringLength());
    out += ':';
    const json_value& value = member.value;
    if (is_scalar(value)) {
      out += ' ' + scalar_text(value) + '\n';
    } else if (value.IsArray() && all_scalars(value)) {
      out += ' ' + inline_array(value) + '\n';
    } else if (value.IsObject() && value.ObjectEmpty()) {
      out += " (none)\n";
    } else {
      out += '\n';
      render_value(value, indent + "  ", out);
    }
  }
}

void render_value(const json_value& value, const std::string& indent, std::string& out) {
  if (value.IsObject()) {
    render_object(value, indent, out);
    return;
  }
  // An array holding objects or arrays: one "-" entry per item.
  for (const auto& item : value.GetArray()) {
    if (is_scalar(item) || (item.IsArray() && all_scalars(item))) {
      out += indent + "- " + (item.IsArray() ? inline_array(item) : scalar_text(item)) + '\n';
      continue;
    }
    std::string nested;
    render_value(item, indent + "  ", nested);
    if (nested.empty()) {
      out += indent + "- (none)\n";
      continue;
    }
    // Put the first line on the dash: "- name: billing".
    nested.replace(0, indent.size() + 2, indent + "- ");
    out += nested;
  }
}

} // namespace

std::optional<std::string> render_readable(std::string_view json) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject())
    return std::nullopt;
  std::string out;
  render_object(document, "", out);
  return out;
}

} // namespace volley::cli
