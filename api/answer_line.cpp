#include "api/answer_line.hpp"

#include <rapidjson/document.h>

namespace volley {

bool answer_ok(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  return !doc.HasParseError() && doc.IsObject() && doc.HasMember("ok") && doc["ok"].IsBool() &&
         doc["ok"].GetBool();
}

std::string answer_error(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error") && doc["error"].IsString())
    return doc["error"].GetString();
  return without_newline(std::string(line));
}

std::string without_newline(std::string line) {
  if (!line.empty() && line.back() == '\n')
    line.pop_back();
  return line;
}

} // namespace volley
