#define BOOST_TEST_MODULE ingress_line
#include <boost/test/unit_test.hpp>

#include "protocol/dlq_entries.hpp"
#include "protocol/fields.hpp"
#include "protocol/ingress_line.hpp"
#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

#include <rapidjson/document.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace volley;
using kind = parsed_line::kind;

namespace {

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF.
bool independent_utf8_check(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size())
      return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
      return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

// Parses `text` as one strict JSON document (encoding validated).
bool parse_json(const std::string& text, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !doc.HasParseError();
}

bool is_json(const std::string& text) {
  rapidjson::Document doc;
  return parse_json(text, doc);
}

parsed_event expect_event(const std::string& line) {
  auto parsed = parse_ingress_line(line);
  BOOST_TEST_INFO("line: " << line << " error: " << parsed.error);
  BOOST_TEST((parsed.what == kind::event));
  return parsed.event;
}

std::string expect_error(const std::string& line) {
  auto parsed = parse_ingress_line(line);
  BOOST_TEST_INFO("line: " << line);
  BOOST_TEST((parsed.what == kind::error));
  BOOST_TEST(!parsed.error.empty());
  return parsed.error;
}

std::string data_of(const std::string& data_json) {
  return expect_event(R"({"type":"t","data":)" + data_json + "}").data;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Parses `line` in a child process, so a crash fails one check instead of
// ending the whole test module. "ok" when the line was either accepted with
// `data` intact or refused with a message; otherwise what happened.
std::string parses_in_child(const std::string& line, const std::string& data) {
  pid_t pid = fork();
  if (pid < 0)
    return "fork failed";
  if (pid == 0) {
    // Die of the signal itself: Boost.Test's handlers belong to the parent.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL})
      std::signal(sig, SIG_DFL);
    auto parsed = parse_ingress_line(line);
    bool fine = parsed.what == kind::event ? parsed.event.data == data : !parsed.error.empty();
    _exit(fine ? 0 : 1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return "waitpid failed";
  if (WIFSIGNALED(status))
    return "crashed with signal " + std::to_string(WTERMSIG(status));
  if (WEXITSTATUS(status) != 0)
    return "accepted with altered data, or refused without a message";
  return "ok";
}

} // namespace

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(type_only) {
  auto ev = expect_event(R"({"type":"order.created"})");
  BOOST_TEST(ev.type == "order.created");
  BOOST_TEST(ev.id.empty());
  BOOST_TEST(ev.data == "null");
  BOOST_TEST(ev.priority == no_priority);
}

BOOST_AUTO_TEST_CASE(every_field) {
  auto ev = expect_event(R"({"type":"invoice.paid","data":{"amount":42},"id":"key-1","priority":3})");
  BOOST_TEST(ev.type == "invoice.paid");
  BOOST_TEST(ev.id == "key-1");
  BOOST_TEST(ev.data == R"({"amount":42})");
  BOOST_TEST(ev.priority == 3);
}

BOOST_AUTO_TEST_CASE(a_key_chooses_the_kafka_partition_in_cluster_mode) {
  auto ev = expect_event(R"({"type":"order.created","key":"customer-7"})");
  BOOST_TEST(ev.key == "customer-7");
  for (const char* bad : {R"({"type":"a","key":""})", R"({"type":"a","key":7})", R"({"type":"a","key":{}})"})
    BOOST_TEST(parse_ingress_line(bad).error == "\"key\" must be a non-empty string");
  BOOST_TEST(parse_ingress_line(R"({"type":"a","key":")" + std::string(257, 'k') + "\"}").error ==
             "\"key\" is longer than 256 bytes");
}

BOOST_AUTO_TEST_CASE(an_event_line_round_trips) {
  for (const char* line :
       {R"({"type":"order.created"})",
        R"({"type":"invoice.paid","id":"inv-1","priority":3,"key":"c-7","data":{"a":[1,"\u00e9"]}})",
        R"({"data":"x","type":"t\"q"})"}) {
    auto first = expect_event(line);
    auto again = expect_event(event_line(first));
    BOOST_TEST(again.type == first.type);
    BOOST_TEST(again.id == first.id);
    BOOST_TEST(again.key == first.key);
    BOOST_TEST(again.priority == first.priority);
    BOOST_TEST(again.data == first.data);
  }
  parsed_event plain;
  plain.type = "a";
  BOOST_TEST(event_line(plain) == R"({"type":"a","data":null})");
}

BOOST_AUTO_TEST_CASE(field_order_does_not_matter) {
  auto ev = expect_event(R"({"priority":0,"data":[1],"id":"x","type":"a.b"})");
  BOOST_TEST(ev.type == "a.b");
  BOOST_TEST(ev.id == "x");
  BOOST_TEST(ev.data == "[1]");
  BOOST_TEST(ev.priority == 0);
}

BOOST_AUTO_TEST_CASE(every_priority_in_range) {
  for (int p = 0; p <= 3; ++p) {
    auto ev = expect_event(R"({"type":"a","priority":)" + std::to_string(p) + "}");
    BOOST_TEST(ev.priority == p);
  }
}

BOOST_AUTO_TEST_CASE(data_of_every_json_type_is_compacted) {
  BOOST_TEST(data_of("null") == "null");
  BOOST_TEST(data_of("true") == "true");
  BOOST_TEST(data_of("false") == "false");
  BOOST_TEST(data_of("0") == "0");
  BOOST_TEST(data_of("-17") == "-17");
  BOOST_TEST(data_of("9007199254740993") == "9007199254740993");
  BOOST_TEST(data_of("18446744073709551615") == "18446744073709551615");
  BOOST_TEST(data_of("-9223372036854775808") == "-9223372036854775808");
  BOOST_TEST(data_of("1.5") == "1.5");
  BOOST_TEST(data_of(R"("text")") == R"("text")");
  BOOST_TEST(data_of(R"("")") == R"("")");
  BOOST_TEST(data_of("[]") == "[]");
  BOOST_TEST(data_of("{}") == "{}");
  BOOST_TEST(data_of(" [ 1 , \"two\" , null , true , { } , [ ] ] ") == R"([1,"two",null,true,{},[]])");
  BOOST_TEST(data_of("{ \"a\" :\t{ \"b\" : [ 1 ,\n2 ] } , \"c\" : \"d e\" }") ==
             R"({"a":{"b":[1,2]},"c":"d e"})");
}

BOOST_AUTO_TEST_CASE(data_strings_keep_their_value) {
  BOOST_TEST(data_of(R"("quote \" backslash \\ newline \n tab \t")") ==
             R"("quote \" backslash \\ newline \n tab \t")");
  // Escaped non-ASCII comes out as UTF-8, the same string.
  BOOST_TEST(data_of(R"("\u00e9\ud83d\ude00")") == "\"\xc3\xa9\xf0\x9f\x98\x80\"");
  BOOST_TEST(data_of("\"caf\xc3\xa9\"") == "\"caf\xc3\xa9\"");
  auto control = data_of(R"("\u0001")");
  BOOST_TEST(is_json(control));
  rapidjson::Document doc;
  BOOST_REQUIRE(parse_json(control, doc));
  BOOST_TEST(doc.GetStringLength() == 1u);
  BOOST_TEST(doc.GetString()[0] == '\x01');
}

BOOST_AUTO_TEST_CASE(data_numbers_keep_their_value) {
  // Compacting must not change what a number means to the receiver.
  for (const char* text : {"0.1", "3.14159", "-0.25", "2.5e-3", "1e300", "123456.789"}) {
    auto out = data_of(text);
    BOOST_TEST_INFO("number " << text << " became " << out);
    BOOST_TEST(std::strtod(out.c_str(), nullptr) == std::strtod(text, nullptr));
  }
}

BOOST_AUTO_TEST_CASE(crlf_line_ending_is_tolerated) {
  auto ev = expect_event("{\"type\":\"a\",\"id\":\"k\"}\r");
  BOOST_TEST(ev.type == "a");
  BOOST_TEST(ev.id == "k");
  BOOST_TEST((parse_ingress_line("{\"op\":\"stats\"}\r").what == kind::op));
}

BOOST_AUTO_TEST_CASE(longest_allowed_type_and_id) {
  std::string long_type(max_event_type_bytes, 't');
  std::string long_id(max_event_id_bytes, 'i');
  auto ev = expect_event(R"({"type":")" + long_type + R"(","id":")" + long_id + R"("})");
  BOOST_TEST(ev.type == long_type);
  BOOST_TEST(ev.id == long_id);
}

BOOST_AUTO_TEST_CASE(deeply_nested_data_does_not_crash) {
  // 500000 levels still fit in one line of the default 1 MiB limit.
  for (size_t depth : {100000, 500000}) {
    std::string nested = std::string(depth, '[') + std::string(depth, ']');
    std::string line = R"({"type":"deep","data":)" + nested + "}";
    BOOST_TEST_INFO("depth " << depth);
    BOOST_TEST(parses_in_child(line, nested) == "ok");
  }
}

BOOST_AUTO_TEST_CASE(deeply_nested_objects_do_not_crash) {
  constexpr size_t depth = 100000;
  std::string objects;
  for (size_t i = 0; i < depth; ++i)
    objects += R"({"a":)";
  objects += "1" + std::string(depth, '}');
  std::string line = R"({"type":"deep","data":)" + objects + "}";
  BOOST_TEST(parses_in_child(line, objects) == "ok");
}

BOOST_AUTO_TEST_CASE(deeply_nested_top_level_is_an_error_not_a_crash) {
  constexpr size_t depth = 100000;
  expect_error(std::string(depth, '[') + std::string(depth, ']'));
  expect_error(std::string(depth, '['));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(invalid_json) {
  BOOST_TEST(contains(expect_error("not json"), "invalid JSON"));
  BOOST_TEST(contains(expect_error(R"({"type":)"), "invalid JSON"));
  BOOST_TEST(contains(expect_error(R"({"type":"a",})"), "invalid JSON"));
  BOOST_TEST(contains(expect_error(R"({"type":"a"} {"type":"b"})"), "invalid JSON"));
  BOOST_TEST(contains(expect_error(R"({'type':'a'})"), "invalid JSON"));
  BOOST_TEST(contains(expect_error(R"({"type":"a","data":NaN})"), "invalid JSON"));
  expect_error("");
  expect_error("\r");
  expect_error("   ");
}

BOOST_AUTO_TEST_CASE(non_object) {
  for (const char* line : {"[]", R"(["type","a"])", R"("order.created")", "42", "null", "true"})
    BOOST_TEST(contains(expect_error(line), "JSON object"));
}

BOOST_AUTO_TEST_CASE(type_missing_empty_or_not_a_string) {
  BOOST_TEST(contains(expect_error("{}"), "type"));
  BOOST_TEST(contains(expect_error(R"({"data":{"a":1}})"), "type"));
  BOOST_TEST(contains(expect_error(R"({"type":""})"), "type"));
  BOOST_TEST(contains(expect_error(R"({"type":null})"), "type"));
  BOOST_TEST(contains(expect_error(R"({"type":5})"), "type"));
  BOOST_TEST(contains(expect_error(R"({"type":["a"]})"), "type"));
  BOOST_TEST(contains(expect_error(R"({"type":{"name":"a"}})"), "type"));
  BOOST_TEST(contains(expect_error(R"({"type":true})"), "type"));
}

BOOST_AUTO_TEST_CASE(type_too_long) {
  std::string type(max_event_type_bytes + 1, 't');
  BOOST_TEST(contains(expect_error(R"({"type":")" + type + R"("})"), "type"));
}

BOOST_AUTO_TEST_CASE(priority_out_of_range_or_not_an_integer) {
  for (const char* p :
       {"-1", "4", "100", "1.5", "2.0", R"("1")", "true", "null", "[1]", "4294967296", "-2147483649"})
    BOOST_TEST(contains(expect_error(R"({"type":"a","priority":)" + std::string{p} + "}"), "priority"));
}

BOOST_AUTO_TEST_CASE(id_not_a_string_empty_or_too_long) {
  for (const char* id : {"5", "null", "true", R"([])", R"({})", R"("")"})
    BOOST_TEST(contains(expect_error(R"({"type":"a","id":)" + std::string{id} + "}"), "id"));
  std::string long_id(max_event_id_bytes + 1, 'i');
  BOOST_TEST(contains(expect_error(R"({"type":"a","id":")" + long_id + R"("})"), "id"));
}

BOOST_AUTO_TEST_CASE(unknown_field) {
  BOOST_TEST(contains(expect_error(R"({"type":"a","payload":{}})"), "payload"));
  BOOST_TEST(contains(expect_error(R"({"typ":"a"})"), "typ"));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_rejected) {
  expect_error("{\"type\":\"a\xff\"}");
  expect_error("{\"type\":\"a\",\"data\":\"\xc3\x28\"}");         // bad continuation
  expect_error("{\"type\":\"a\",\"data\":\"\xc0\xaf\"}");         // overlong '/'
  expect_error("{\"type\":\"a\",\"id\":\"\xed\xa0\x80\"}");       // encoded surrogate
  expect_error("{\"type\":\"a\",\"data\":{\"k\xfe\":1}}");        // in a key
  expect_error("{\"type\":\"a\",\"data\":\"\xf4\x90\x80\x80\"}"); // past U+10FFFF
  expect_error("{\"type\":\"a\",\"data\":\"\xe2\x82\"}");         // truncated sequence
}

BOOST_AUTO_TEST_CASE(lone_surrogate_escapes_never_yield_invalid_utf8) {
  // A lone \uD800 is refused by the parser. A lone low surrogate (\uDC00)
  // must be refused too, or at least never turn into invalid UTF-8 in the
  // type, id or data (and from there the ack line and the delivery body).
  for (const char* line : {R"({"type":"a\ud800"})", R"({"type":"a\udc00"})", R"({"type":"a","id":"\udfff"})",
                           R"({"type":"a","data":"\udc00"})", R"({"type":"a","data":{"\udc01":1}})"}) {
    auto parsed = parse_ingress_line(line);
    bool refused = parsed.what == kind::error;
    bool clean = independent_utf8_check(parsed.event.type) && independent_utf8_check(parsed.event.id) &&
                 independent_utf8_check(parsed.event.data);
    BOOST_TEST((refused || clean), "accepted " << line << " as invalid UTF-8 (type/id/data)");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ops)

BOOST_AUTO_TEST_CASE(op_lines) {
  for (const char* op : {"stats", "health", "dlq.list", "dlq.retry", "dlq.delete"}) {
    auto parsed = parse_ingress_line(R"({"op":")" + std::string{op} + R"("})");
    BOOST_TEST((parsed.what == kind::op));
    BOOST_TEST(parsed.op == op);
  }
  auto with_fields = parse_ingress_line(R"({"op":"dlq.list","subscriber":"billing","limit":5})");
  BOOST_TEST((with_fields.what == kind::op));
  BOOST_TEST(with_fields.op == "dlq.list");
}

BOOST_AUTO_TEST_CASE(bad_op_values) {
  BOOST_TEST(contains(expect_error(R"({"op":""})"), "op"));
  BOOST_TEST(contains(expect_error(R"({"op":5})"), "op"));
  BOOST_TEST(contains(expect_error(R"({"op":null})"), "op"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(answers)

BOOST_AUTO_TEST_CASE(ack_line_exact) {
  BOOST_TEST(ack_line("evt_1", false) == "{\"ok\":true,\"id\":\"evt_1\"}\n");
  BOOST_TEST(ack_line("evt_1", true) == "{\"ok\":true,\"id\":\"evt_1\",\"duplicate\":true}\n");
}

BOOST_AUTO_TEST_CASE(ack_line_escapes_the_id) {
  const std::string id = std::string("a\"b\\c\nd\re\tf\x01g\x1fh/") + '\0' + "end";
  for (bool duplicate : {false, true}) {
    auto line = ack_line(id, duplicate);
    BOOST_REQUIRE(!line.empty());
    BOOST_TEST(line.back() == '\n');
    BOOST_TEST(line.find('\n') == line.size() - 1); // one line
    rapidjson::Document doc;
    BOOST_REQUIRE(parse_json(line.substr(0, line.size() - 1), doc));
    BOOST_REQUIRE(doc.IsObject());
    BOOST_TEST(doc["ok"].IsTrue());
    BOOST_TEST((std::string{doc["id"].GetString(), doc["id"].GetStringLength()} == id));
    BOOST_TEST(doc.HasMember("duplicate") == duplicate);
  }
}

BOOST_AUTO_TEST_CASE(error_line_escapes_the_message) {
  BOOST_TEST(error_line("bad") == "{\"ok\":false,\"error\":\"bad\"}\n");
  const std::string message = "field \"x\" at C:\\path\nnext\tline \x02\x7f";
  auto line = error_line(message);
  BOOST_TEST(line.find('\n') == line.size() - 1);
  rapidjson::Document doc;
  BOOST_REQUIRE(parse_json(line, doc));
  BOOST_TEST(doc["ok"].IsFalse());
  BOOST_TEST(doc["error"].GetString() == message);
}

BOOST_AUTO_TEST_CASE(error_lines_of_the_parser_are_valid_json) {
  for (const char* bad : {"{", R"({"type":"a","nope":1})", R"({"type":"a","priority":9})", "[]"}) {
    auto parsed = parse_ingress_line(bad);
    BOOST_TEST(is_json(error_line(parsed.error)));
  }
}

BOOST_AUTO_TEST_CASE(delivery_body_exact_bytes) {
  BOOST_TEST(
    delivery_body("evt_1", "order.created", 0, R"({"a":1})") ==
    R"({"id":"evt_1","type":"order.created","timestamp":"1970-01-01T00:00:00.000Z","data":{"a":1}})");
  BOOST_TEST(delivery_body("k", "t", 1614265330123, "null") ==
             R"({"id":"k","type":"t","timestamp":"2021-02-25T15:02:10.123Z","data":null})");
}

BOOST_AUTO_TEST_CASE(delivery_body_is_valid_json_with_exactly_four_fields) {
  auto ev = expect_event(R"({"type":"we\"ird\\type","id":"id\n1","data":{"list":[1,2.5,"x"]}})");
  auto body = delivery_body(ev.id, ev.type, 1700000000000, ev.data);
  rapidjson::Document doc;
  BOOST_REQUIRE(parse_json(body, doc));
  BOOST_REQUIRE(doc.IsObject());
  BOOST_TEST(doc.MemberCount() == 4u);
  BOOST_TEST(doc["id"].GetString() == std::string{"id\n1"});
  BOOST_TEST(doc["type"].GetString() == std::string{"we\"ird\\type"});
  BOOST_TEST(doc["timestamp"].GetString() == std::string{"2023-11-14T22:13:20.000Z"});
  BOOST_REQUIRE(doc["data"].IsObject());
  BOOST_TEST(doc["data"]["list"].Size() == 3u);
  BOOST_TEST(doc["data"]["list"][1].GetDouble() == 2.5);
  // The order of the fields is part of the contract (identical bytes).
  BOOST_TEST(body.rfind(R"({"id":)", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(generated_ids_are_unique_and_well_formed) {
  std::set<std::string> ids;
  for (int i = 0; i < 100000; ++i)
    ids.insert(generate_event_id());
  BOOST_TEST(ids.size() == 100000u);
  for (const auto& id : {*ids.begin(), *ids.rbegin()}) {
    BOOST_TEST(id.size() == 36u);
    BOOST_TEST(id.rfind("evt_", 0) == 0u);
    BOOST_TEST(id.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(timestamps)

BOOST_AUTO_TEST_CASE(known_values) {
  BOOST_TEST(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_rfc3339_ms(1) == "1970-01-01T00:00:00.001Z");
  BOOST_TEST(format_rfc3339_ms(999) == "1970-01-01T00:00:00.999Z");
  BOOST_TEST(format_rfc3339_ms(1000) == "1970-01-01T00:00:01.000Z");
  BOOST_TEST(format_rfc3339_ms(1614265330123) == "2021-02-25T15:02:10.123Z");
  BOOST_TEST(format_rfc3339_ms(951782400000) == "2000-02-29T00:00:00.000Z");
  BOOST_TEST(format_rfc3339_ms(4102444800000) == "2100-01-01T00:00:00.000Z");
  BOOST_TEST(format_rfc3339_ms(253402300799999) == "9999-12-31T23:59:59.999Z");
  // Past four digits of year the general path takes over.
  BOOST_TEST(format_rfc3339_ms(253402300800000) == "10000-01-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(before_the_epoch) {
  BOOST_TEST(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(format_rfc3339_ms(-1000) == "1969-12-31T23:59:59.000Z");
  BOOST_TEST(format_rfc3339_ms(-1001) == "1969-12-31T23:59:58.999Z");
}

BOOST_AUTO_TEST_CASE(now_is_sane) {
  auto now = unix_ms_now();
  BOOST_TEST(now > 1600000000000); // after 2020
  BOOST_TEST(format_rfc3339_ms(now).size() == 24u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dlq)

BOOST_AUTO_TEST_CASE(keys_parse_and_format) {
  auto key = parse_delivery_key("billing/42");
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(key->subscriber == "billing");
  BOOST_TEST(key->event_seq == 42u);
  BOOST_TEST(format_delivery_key(*key) == "billing/42");

  auto nested = parse_delivery_key("team/billing/7"); // the last slash splits
  BOOST_REQUIRE(nested.has_value());
  BOOST_TEST(nested->subscriber == "team/billing");
  BOOST_TEST(nested->event_seq == 7u);

  auto zero = parse_delivery_key("a/0");
  BOOST_REQUIRE(zero.has_value());
  BOOST_TEST(zero->event_seq == 0u);
}

BOOST_AUTO_TEST_CASE(bad_keys) {
  for (const char* text :
       {"", "billing", "billing/", "/42", "/", "billing/4x", "billing/-1", "billing/+1", "billing/ 1",
        "billing/1.5", "billing/18446744073709551616", "billing/99999999999999999999"})
    BOOST_TEST(!parse_delivery_key(text).has_value(), "accepted \"" << text << "\"");
}

BOOST_AUTO_TEST_CASE(largest_sequence_numbers_round_trip) {
  for (uint64_t seq : {uint64_t{1844674407370955161}, uint64_t{18446744073709551609u},
                       uint64_t{18446744073709551610u}, std::numeric_limits<uint64_t>::max()}) {
    delivery_key key{"billing", seq};
    auto back = parse_delivery_key(format_delivery_key(key));
    BOOST_TEST_INFO("seq " << seq);
    BOOST_TEST(back.has_value());
    if (back)
      BOOST_TEST(back->event_seq == seq);
  }
}

BOOST_AUTO_TEST_CASE(list_line_is_valid_json) {
  dlq_record a;
  a.key = {"bill\"ing", 7};
  a.event_id = "evt\\1";
  a.type = "order.created";
  a.body = R"({"id":"evt\\1","data":{"x":"line\nbreak"}})";
  a.priority = 2;
  a.attempts = 8;
  a.last_status = 503;
  a.last_error = "HTTP 503\tservice \x01 unavailable";
  a.created_ms = 0;
  a.failed_ms = 1614265330123;
  dlq_record b;
  b.key = {"audit", 9};
  b.last_error = "timeout";

  auto line = dlq_list_line({a, b}, true);
  BOOST_REQUIRE(!line.empty());
  BOOST_TEST(line.back() == '\n');
  BOOST_TEST(line.find('\n') == line.size() - 1);
  rapidjson::Document doc;
  BOOST_REQUIRE(parse_json(line, doc));
  BOOST_TEST(doc["ok"].IsTrue());
  BOOST_REQUIRE(doc["entries"].IsArray());
  BOOST_REQUIRE(doc["entries"].Size() == 2u);
  const auto& e = doc["entries"][0];
  BOOST_TEST(e["key"].GetString() == std::string{"bill\"ing/7"});
  BOOST_TEST(e["subscriber"].GetString() == std::string{"bill\"ing"});
  BOOST_TEST(e["event_id"].GetString() == std::string{"evt\\1"});
  BOOST_TEST(e["type"].GetString() == std::string{"order.created"});
  BOOST_TEST(e["attempts"].GetInt() == 8);
  BOOST_TEST(e["last_status"].GetInt() == 503);
  BOOST_TEST(e["last_error"].GetString() == a.last_error);
  BOOST_TEST(e["created"].GetString() == std::string{"1970-01-01T00:00:00.000Z"});
  BOOST_TEST(e["failed"].GetString() == std::string{"2021-02-25T15:02:10.123Z"});
  BOOST_TEST(e["body"].GetString() == a.body);
  BOOST_TEST(doc["next"].GetString() == std::string{"audit/9"});

  auto last_page = dlq_list_line({a}, false);
  rapidjson::Document last;
  BOOST_REQUIRE(parse_json(last_page, last));
  BOOST_TEST(last["next"].IsNull());

  rapidjson::Document empty;
  BOOST_REQUIRE(parse_json(dlq_list_line({}, true), empty));
  BOOST_TEST(empty["entries"].Size() == 0u);
  BOOST_TEST(empty["next"].IsNull());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fields_suite)

BOOST_AUTO_TEST_CASE(logfmt_rendering) {
  fields f;
  f.flag("monitor")
    .flag("node")
    .text("status", "healthy")
    .integer("delivered", 1200)
    .integer("negative", -3)
    .number("success_rate", 99.75)
    .number("p50_ms", 2.1)
    .number("p99_ms", 14.0)
    .number("zero", 0.0)
    .boolean("enabled", true)
    .boolean("draining", false);
  BOOST_TEST(f.logfmt() == "monitor node status=healthy delivered=1200 negative=-3 "
                           "success_rate=99.75 p50_ms=2.1 p99_ms=14 zero=0 enabled=true "
                           "draining=false");
}

BOOST_AUTO_TEST_CASE(number_decimals_and_non_finite) {
  fields f;
  f.number("a", 99.756)
    .number("b", 99.6, 0)
    .number("c", 1.0 / 3.0, 4)
    .number("d", std::nan(""))
    .number("e", std::numeric_limits<double>::infinity())
    .number("f", 120.0, 0);
  BOOST_TEST(f.logfmt() == "a=99.76 b=100 c=0.3333 d=0 e=0 f=120");
}

BOOST_AUTO_TEST_CASE(logfmt_quotes_what_needs_quoting) {
  fields f;
  f.text("plain", "abc")
    .text("space", "a b")
    .text("empty", "")
    .text("equals", "a=b")
    .text("quote", "say \"hi\"");
  BOOST_TEST(f.logfmt() == R"(plain=abc space="a b" empty="" equals="a=b" quote="say \"hi\"")");
}

BOOST_AUTO_TEST_CASE(logfmt_stays_one_line_with_control_characters) {
  // A value with a newline (an error text from a server, say) must not
  // split a monitor log line in two, and a tab must not split the value.
  fields f;
  f.text("last_error", "line one\nline two").text("tabbed", "a\tb").text("cr", "x\ry");
  auto line = f.logfmt();
  BOOST_TEST(line.find('\n') == std::string::npos);
  BOOST_TEST(line.find('\r') == std::string::npos);
  BOOST_TEST(line.find('\t') == std::string::npos);
  fields single;
  single.text("last_error", "a\nb");
  BOOST_TEST(single.logfmt() == R"(last_error="a\nb")");
}

BOOST_AUTO_TEST_CASE(json_object_is_valid_json) {
  fields f;
  f.flag("monitor")
    .text("subscriber", "bill\"ing\\x\n")
    .text("empty", "")
    .number("success_rate", 91.2)
    .number("nan", std::nan(""))
    .integer("queued", 40)
    .boolean("enabled", false)
    .json("counts", R"({"a":[1,2]})");
  auto text = f.json_object();
  rapidjson::Document doc;
  BOOST_REQUIRE(parse_json(text, doc));
  BOOST_REQUIRE(doc.IsObject());
  BOOST_TEST(doc.MemberCount() == 8u);
  BOOST_TEST(doc["monitor"].IsTrue());
  BOOST_TEST(doc["subscriber"].GetString() == std::string{"bill\"ing\\x\n"});
  BOOST_TEST(doc["empty"].GetString() == std::string{});
  BOOST_TEST(doc["success_rate"].GetDouble() == 91.2);
  BOOST_TEST(doc["nan"].GetDouble() == 0.0);
  BOOST_TEST(doc["queued"].GetInt() == 40);
  BOOST_TEST(doc["enabled"].IsFalse());
  BOOST_TEST(doc["counts"]["a"].Size() == 2u);
  BOOST_TEST(fields{}.json_object() == "{}");
  BOOST_TEST(fields{}.logfmt() == "");
}

BOOST_AUTO_TEST_CASE(logfmt_shows_json_values_as_quoted_text) {
  fields f;
  f.json("counts", R"({"a":1})");
  BOOST_TEST(f.logfmt() == R"(counts="{\"a\":1}")");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(utf8)

BOOST_AUTO_TEST_CASE(valid_utf8_accepts_well_formed_text) {
  for (const char* ok :
       {"", "plain", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"})
    BOOST_TEST(volley::valid_utf8(ok), "rejected " << ok);
}

BOOST_AUTO_TEST_CASE(valid_utf8_rejects_malformed_text) {
  for (const char* bad : {"\x80", "\xc0\xaf", "\xc3", "\xe0\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf",
                          "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff"})
    BOOST_TEST(!volley::valid_utf8(bad), "accepted " << bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(repeated_fields)

// Found by the ingress_line fuzzer: a second "data" made the body invalid.
BOOST_AUTO_TEST_CASE(a_repeated_field_is_refused) {
  for (const char* line : {R"({"data":"x","type":"a","data":[1]})", R"({"type":"a","type":"b"})",
                           R"({"type":"a","id":"x","id":"y"})"}) {
    auto parsed = parse_ingress_line(line);
    BOOST_TEST((parsed.what == parsed_line::kind::error), line);
    BOOST_TEST(parsed.error.find("appears twice") != std::string::npos, parsed.error);
  }
}

BOOST_AUTO_TEST_SUITE_END()
