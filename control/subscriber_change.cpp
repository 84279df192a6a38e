#include "control/subscriber_change.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

namespace volley {

namespace {

using json = rapidjson::Value;

void add_state(json& definition, const std::map<std::string, const json*>& states,
               rapidjson::Document::AllocatorType& alloc) {
  if (!definition.IsObject())
    return;
  auto name = definition.FindMember("name");
  if (name == definition.MemberEnd() || !name->value.IsString())
    return;
  auto it = states.find(name->value.GetString());
  if (it == states.end())
    return;
  json state(rapidjson::kObjectType);
  for (const auto& m : it->second->GetObject())
    if (std::string_view{m.name.GetString()} != "subscriber")
      state.AddMember(json(m.name, alloc), json(m.value, alloc), alloc);
  definition.AddMember("state", state, alloc);
}

} // namespace

std::string with_live_state(std::string_view answer_body, std::string_view monitor_line) {
  rapidjson::Document answer, monitor;
  answer.Parse(answer_body.data(), answer_body.size());
  monitor.Parse(monitor_line.data(), monitor_line.size());
  if (answer.HasParseError() || !answer.IsObject() || monitor.HasParseError() || !monitor.IsObject() ||
      !monitor.HasMember("subscribers") || !monitor["subscribers"].IsArray())
    return std::string(answer_body);
  std::map<std::string, const json*> states;
  for (const auto& s : monitor["subscribers"].GetArray())
    if (s.IsObject() && s.HasMember("subscriber") && s["subscriber"].IsString())
      states[s["subscriber"].GetString()] = &s;
  auto& alloc = answer.GetAllocator();
  auto list = answer.FindMember("subscribers");
  if (list != answer.MemberEnd() && list->value.IsArray()) {
    for (auto& definition : list->value.GetArray())
      add_state(definition, states, alloc);
  } else {
    add_state(answer, states, alloc);
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  answer.Accept(writer);
  return {out.GetString(), out.GetSize()};
}

} // namespace volley
