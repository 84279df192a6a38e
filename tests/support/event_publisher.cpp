#include "tests/support/event_publisher.hpp"

#include "tests/support/line_client.hpp"

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include <chrono>

namespace volley::test {

std::string event_line(const std::string& id, const std::string& type) {
  return "{\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"data\":{\"n\":\"" + id + "\"}}";
}

void publish_events(uint16_t port, const std::vector<std::string>& ids, const std::string& type) {
  std::vector<std::string> lines;
  lines.reserve(ids.size());
  for (const auto& id : ids)
    lines.push_back(event_line(id, type));
  publish_lines(port, lines, ids);
}

void publish_lines(uint16_t port, const std::vector<std::string>& lines,
                   const std::vector<std::string>& ids) {
  line_client client{port};
  auto answers = client.exchange(lines, std::chrono::seconds(120));
  BOOST_REQUIRE_EQUAL(answers.size(), lines.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    rapidjson::Document doc;
    doc.Parse(answers[i].c_str());
    BOOST_REQUIRE_MESSAGE(!doc.HasParseError() && doc.IsObject() && doc.HasMember("ok") &&
                            doc["ok"].IsBool() && doc["ok"].GetBool() && doc.HasMember("id") &&
                            doc["id"].IsString() && ids[i] == doc["id"].GetString(),
                          "event " << ids[i] << " not acknowledged: " << answers[i]);
  }
}

} // namespace volley::test
