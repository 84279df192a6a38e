#include "config/runtime_subscribers.hpp"

#include "config/config_loader.hpp"
#include "config/subscriber_json.hpp"
#include "protocol/fields.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace volley {

namespace {

using kind = subscriber_answer::kind;

const subscriber_config* find_in(const std::vector<subscriber_config>& file, const std::string& name) {
  auto it =
    std::find_if(file.begin(), file.end(), [&](const subscriber_config& s) { return s.name == name; });
  return it == file.end() ? nullptr : &*it;
}

subscriber_answer error_answer(kind what, std::string_view message) {
  fields body;
  body.text("error", message);
  return {what, body.json_object()};
}

// {"error": "url: ...; name: ...", "errors": [{"key": "url", "message": "..."}, ...]}
subscriber_answer invalid_answer(const std::vector<config_error>& errors) {
  std::string summary, list = "[";
  for (const auto& e : errors) {
    summary += (summary.empty() ? "" : "; ") + (e.key.empty() ? "" : e.key + ": ") + e.message;
    fields f;
    f.text("key", e.key).text("message", e.message);
    list += (list.size() > 1 ? "," : "") + f.json_object();
  }
  fields body;
  body.text("error", summary).json("errors", list + "]");
  return {kind::invalid, body.json_object()};
}

std::string conflict_with_file(const std::string& name) {
  return "subscriber \"" + name +
         "\" comes from the config file: change or remove it there "
         "(and reload); the API changes only subscribers it added";
}

// The body with "name" set to `name` when it has none, compact. nullopt
// (and `error`) when the names differ; a body that is not a JSON object is
// returned as it is, for the validator to describe.
std::optional<std::string> with_name(const std::string& body, const std::string& name, std::string& error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return body;
  auto it = doc.FindMember("name");
  if (it == doc.MemberEnd()) {
    doc.AddMember("name", rapidjson::Value(name.c_str(), doc.GetAllocator()), doc.GetAllocator());
  } else if (!it->value.IsString() || name != it->value.GetString()) {
    error = "name: must be \"" + name + "\" as in the path, or left out";
    return std::nullopt;
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  doc.Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

} // namespace

std::vector<std::string> runtime_subscribers::load(const std::vector<subscriber_definition>& stored,
                                                   const delivery_defaults& defaults) {
  std::vector<std::string> problems;
  entries_.clear();
  for (const auto& d : stored) {
    auto parsed = parse_subscriber_config(d.json, defaults);
    if (!parsed.value || parsed.value->name != d.name) {
      problems.push_back("API subscriber \"" + d.name + "\" does not run: its stored definition " +
                         (parsed.value ? "names another subscriber"
                                       : "is no longer valid: " + format_config_errors(parsed.errors)));
      continue;
    }
    entries_[d.name] = {d, std::move(*parsed.value)};
  }
  return problems;
}

std::vector<std::string> runtime_subscribers::rebase(const delivery_defaults& defaults) {
  std::vector<std::string> problems;
  for (auto& [name, e] : entries_) {
    auto parsed = parse_subscriber_config(e.definition.json, defaults);
    if (parsed.value)
      e.config = std::move(*parsed.value);
    else
      problems.push_back("API subscriber \"" + name +
                         "\" keeps its settings: with the new defaults "
                         "it would not be valid: " +
                         format_config_errors(parsed.errors));
  }
  return problems;
}

std::vector<subscriber_config> runtime_subscribers::merged(const std::vector<subscriber_config>& file) const {
  auto out = file;
  for (const auto& [name, e] : entries_)
    if (!find_in(file, name))
      out.push_back(e.config);
  return out;
}

std::vector<std::string> runtime_subscribers::shadowed(const std::vector<subscriber_config>& file) const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_)
    if (find_in(file, name))
      out.push_back(name);
  return out;
}

std::string runtime_subscribers::list_body(const std::vector<subscriber_config>& file) const {
  std::string list = "[";
  for (const auto& s : file)
    list += (list.size() > 1 ? "," : "") + subscriber_json(s, "config");
  for (const auto& [name, e] : entries_)
    if (!find_in(file, name))
      list += (list.size() > 1 ? "," : "") + subscriber_json(e.config, "api", e.definition.updated_ms);
  return "{\"subscribers\":" + list + "]}";
}

runtime_subscribers::plan runtime_subscribers::store(const std::string& name, const std::string& body,
                                                     bool create, const std::vector<subscriber_config>& file,
                                                     const delivery_defaults& defaults,
                                                     int64_t now_ms) const {
  plan p;
  auto parsed = parse_subscriber_config(body, defaults);
  if (!parsed.value) {
    p.answer = invalid_answer(parsed.errors);
    return p;
  }
  const auto& cfg = *parsed.value;
  if (!name.empty() && cfg.name != name) {
    p.answer = error_answer(kind::invalid, "name: must be \"" + name + "\" as in the path, or left out");
    return p;
  }
  if (find_in(file, cfg.name)) {
    p.answer = error_answer(kind::conflict, conflict_with_file(cfg.name));
    return p;
  }
  const bool exists = contains(cfg.name);
  if (create && exists) {
    p.answer = error_answer(kind::conflict, "subscriber \"" + cfg.name +
                                              "\" exists already: "
                                              "PUT /v1/subscribers/" +
                                              cfg.name + " replaces it");
    return p;
  }
  p.store = subscriber_definition{cfg.name, body, now_ms, false};
  p.act = exists ? plan::action::reconfigure : plan::action::start;
  p.config = cfg;
  p.answer = {exists ? kind::ok : kind::created, subscriber_json(cfg, "api", now_ms)};
  return p;
}

runtime_subscribers::plan runtime_subscribers::decide(const subscriber_change& change,
                                                      const std::vector<subscriber_config>& file,
                                                      const delivery_defaults& defaults,
                                                      int64_t now_ms) const {
  plan p;
  const auto& name = change.name;
  switch (change.what) {
    case subscriber_change::kind::list:
      p.answer = {kind::ok, list_body(file)};
      return p;
    case subscriber_change::kind::get:
      if (auto* s = find_in(file, name))
        p.answer = {kind::ok, subscriber_json(*s, "config")};
      else if (auto it = entries_.find(name); it != entries_.end())
        p.answer = {kind::ok, subscriber_json(it->second.config, "api", it->second.definition.updated_ms)};
      else
        p.answer = error_answer(kind::not_found, "no subscriber named \"" + name + "\"");
      return p;
    case subscriber_change::kind::create:
      return store("", change.body, true, file, defaults, now_ms);
    case subscriber_change::kind::replace: {
      if (find_in(file, name)) {
        p.answer = error_answer(kind::conflict, conflict_with_file(name));
        return p;
      }
      std::string error;
      auto body = with_name(change.body, name, error);
      if (!body) {
        p.answer = error_answer(kind::invalid, error);
        return p;
      }
      return store(name, *body, false, file, defaults, now_ms);
    }
    case subscriber_change::kind::remove:
      if (find_in(file, name)) {
        p.answer = error_answer(kind::conflict, conflict_with_file(name));
      } else if (!contains(name)) {
        p.answer = error_answer(kind::not_found, "no subscriber named \"" + name + "\"");
      } else {
        p.store = subscriber_definition{name, "", now_ms, true};
        p.act = plan::action::stop;
        p.config.name = name;
        fields body;
        body.text("name", name).boolean("deleted", true);
        p.answer = {kind::ok, body.json_object()};
      }
      return p;
  }
  return p;
}

void runtime_subscribers::apply(const plan& p) {
  if (!p.store)
    return;
  if (p.store->deleted)
    entries_.erase(p.store->name);
  else
    entries_[p.store->name] = {*p.store, p.config};
}

} // namespace volley
