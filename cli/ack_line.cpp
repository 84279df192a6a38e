#include "cli/ack_line.hpp"

#include <rapidjson/document.h>

namespace volley::cli {

namespace {

rapidjson::Document parse(std::string_view line) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  return document;
}

} // namespace

bool reply_is_ok(std::string_view line) {
  // The daemon writes acks in this exact shape; skipping the parse for them
  // keeps `publish` cheap at 100k+ lines.
  constexpr std::string_view fast_ok = R"({"ok":true)";
  if (line.substr(0, fast_ok.size()) == fast_ok && line.size() > fast_ok.size() &&
      (line[fast_ok.size()] == ',' || line[fast_ok.size()] == '}'))
    return true;
  const auto document = parse(line);
  if (document.HasParseError() || !document.IsObject())
    return false;
  const auto ok = document.FindMember("ok");
  return ok != document.MemberEnd() && ok->value.IsBool() && ok->value.GetBool();
}

std::string reply_error(std::string_view line) {
  const auto document = parse(line);
  if (document.HasParseError() || !document.IsObject())
    return {};
  const auto error = document.FindMember("error");
  if (error == document.MemberEnd() || !error->value.IsString())
    return {};
  return {error->value.GetString(), error->value.GetStringLength()};
}

} // namespace volley::cli
