#pragma once
// An HTTP reply's body as JSON, for tests: the test stops when it is not.

#include "tests/support/http_client.hpp"

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

namespace volley::test {

inline rapidjson::Document json_body(const http_reply& reply) {
  rapidjson::Document doc;
  doc.Parse(reply.body.c_str(), reply.body.size());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON (status " << reply.status << "): " << reply.body);
  return doc;
}

// The "error" string of an error body, "" when there is none.
inline std::string error_of(const http_reply& reply) {
  auto doc = json_body(reply);
  return doc.IsObject() && doc.HasMember("error") && doc["error"].IsString() ? doc["error"].GetString() : "";
}

} // namespace volley::test
