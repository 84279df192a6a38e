#define BOOST_TEST_MODULE signature
#include <boost/test/unit_test.hpp>

#include "signing/legacy_signature_header.hpp"
#include "signing/signature.hpp"
#include "signing/timestamp_tolerance.hpp"
#include "signing/webhook_request.hpp"
#include "signing/webhook_secret.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Every expected value below was computed outside Volley (Python's hmac and
// base64 modules, cross-checked with `openssl dgst -mac HMAC`), never by the
// code under test.

using namespace volley;

namespace {

constexpr const char* sw_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* sw_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t sw_timestamp = 1614265330;
constexpr const char* sw_body = R"({"test": 2432232314})";
constexpr const char* sw_expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::string sw_key() {
  auto key = signing_key_from_secret(sw_secret);
  BOOST_REQUIRE(key.has_value());
  return *key;
}

} // namespace

BOOST_AUTO_TEST_SUITE(hmac)

BOOST_AUTO_TEST_CASE(rfc4231_case_1) {
  auto mac = hmac_sha256(std::string(20, '\x0b'), "Hi There");
  BOOST_TEST(mac.size() == 32u);
  BOOST_TEST(hex_encode(mac) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

BOOST_AUTO_TEST_CASE(rfc4231_case_2) {
  auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  BOOST_TEST(hex_encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// One context per thread is keyed again for every message: keys of every
// length (empty, short, longer than SHA-256's block, hashed first) in turn
// on one thread each give their own MAC.
BOOST_AUTO_TEST_CASE(keys_of_every_length_in_turn_on_one_thread) {
  const std::string case1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  const std::string case2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const std::string case6 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  const std::string empty = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
  for (int round = 0; round < 2; ++round) {
    BOOST_TEST(hex_encode(hmac_sha256(std::string(131, '\xaa'),
                                      "Test Using Larger Than Block-Size Key - Hash Key First")) == case6);
    BOOST_TEST(hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")) == case1);
    BOOST_TEST(hex_encode(hmac_sha256("", "")) == empty);
    BOOST_TEST(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")) == case2);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(whsec_secret_is_base64_decoded) {
  BOOST_TEST(hex_encode(sw_key()) == "31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0");
}

BOOST_AUTO_TEST_CASE(other_secret_is_raw_bytes) {
  auto key = signing_key_from_secret("audit-secret");
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(*key == "audit-secret");
}

BOOST_AUTO_TEST_CASE(whsec_with_bad_base64_is_rejected) {
  BOOST_TEST(!signing_key_from_secret("whsec_not*base64").has_value());
  BOOST_TEST(!signing_key_from_secret("whsec_abcde").has_value());
  BOOST_TEST(!signing_key_from_secret("whsec_Zm9v=").has_value());
}

BOOST_AUTO_TEST_CASE(a_new_secret_is_whsec_base64_of_32_bytes) {
  // bytes 0..31, base64 by Python's base64 module.
  std::string counting;
  for (int i = 0; i < 32; ++i)
    counting.push_back(static_cast<char>(i));
  BOOST_TEST(whsec_secret(counting) == "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");

  const auto first = random_webhook_secret();
  const auto second = random_webhook_secret();
  BOOST_TEST(first.rfind("whsec_", 0) == 0u);
  BOOST_TEST(first != second);
  const auto key = signing_key_from_secret(first);
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(key->size() == webhook_secret_bytes);
  BOOST_TEST(whsec_secret(*key) == first);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(timestamp_tolerance)

constexpr int64_t now_s = 1795441200;

BOOST_AUTO_TEST_CASE(accepts_up_to_the_tolerance_either_way) {
  for (int64_t offset : {-300, -1, 0, 1, 300}) {
    const auto verdict = judge_timestamp(now_s + offset, now_s, 300);
    BOOST_TEST(verdict.accepted(), offset);
    BOOST_TEST(verdict.reason(now_s + offset, 300) == "");
  }
  BOOST_TEST(judge_timestamp(now_s, now_s, 0).accepted());
}

BOOST_AUTO_TEST_CASE(refuses_too_old_and_too_new) {
  const auto old = judge_timestamp(now_s - 301, now_s, 300);
  BOOST_TEST((old.age == timestamp_age::too_old));
  BOOST_TEST(old.off_by_s == 301u);
  BOOST_TEST(old.reason(now_s - 301, 300)
               .rfind("webhook-timestamp 1795440899 is 301 s old, more than the "
                      "tolerance of 300 s",
                      0) == 0u);
  const auto ahead = judge_timestamp(now_s + 301, now_s, 300);
  BOOST_TEST((ahead.age == timestamp_age::too_new));
  BOOST_TEST(ahead.reason(now_s + 301, 300).find("is 301 s in the future") != std::string::npos);
  // The issue's example: a timestamp from 1970.
  BOOST_TEST((judge_timestamp(1000, now_s, default_timestamp_tolerance_s).age == timestamp_age::too_old));
  BOOST_TEST((judge_timestamp(now_s + 1, now_s, 0).age == timestamp_age::too_new));
}

BOOST_AUTO_TEST_CASE(extreme_timestamps_do_not_overflow) {
  const auto past = judge_timestamp(INT64_MIN, now_s, 300);
  BOOST_TEST((past.age == timestamp_age::too_old));
  BOOST_TEST(past.off_by_s == static_cast<uint64_t>(now_s) + (uint64_t{1} << 63));
  const auto future = judge_timestamp(INT64_MAX, now_s, 300);
  BOOST_TEST((future.age == timestamp_age::too_new));
  BOOST_TEST(future.off_by_s == static_cast<uint64_t>(INT64_MAX - now_s));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(standard_webhooks)

BOOST_AUTO_TEST_CASE(spec_vector) {
  BOOST_TEST(standard_signature(sw_key(), sw_id, sw_timestamp, sw_body) == sw_expected);
  BOOST_TEST(verify_standard_signature(sw_expected, {sw_key()}, sw_id, sw_timestamp, sw_body));
}

BOOST_AUTO_TEST_CASE(raw_secret_vector) {
  auto key = *signing_key_from_secret("audit-secret");
  BOOST_TEST(standard_signature(key, "evt_1", 1700000000, R"({"a":1})") ==
             "v1,E9CXak1tIN95lzP4MQsGh6qkzV8qs27AdpH7nPJ+OWc=");
}

BOOST_AUTO_TEST_CASE(rotation_header_has_one_entry_per_key) {
  std::vector<std::string> keys{sw_key(), "second-key"};
  auto header = standard_signature_header(keys, sw_id, sw_timestamp, sw_body);
  BOOST_TEST(header == std::string(sw_expected) + " v1,4Wzb6tcIfznzcEHPT7GcEE5B7qzv9qwZv0ckDDA6dJo=");
  // A receiver that knows only one of the keys accepts the header.
  BOOST_TEST(verify_standard_signature(header, {sw_key()}, sw_id, sw_timestamp, sw_body));
  BOOST_TEST(verify_standard_signature(header, {"second-key"}, sw_id, sw_timestamp, sw_body));
  BOOST_TEST(!verify_standard_signature(header, {"third-key"}, sw_id, sw_timestamp, sw_body));
}

BOOST_AUTO_TEST_CASE(header_with_no_keys_is_empty) {
  BOOST_TEST(standard_signature_header(std::vector<std::string>{}, sw_id, sw_timestamp, sw_body).empty());
}

BOOST_AUTO_TEST_CASE(verify_accepts_any_listed_key) {
  BOOST_TEST(verify_standard_signature(sw_expected, {"old-key", sw_key()}, sw_id, sw_timestamp, sw_body));
}

BOOST_AUTO_TEST_CASE(verify_skips_unknown_versions_and_extra_spaces) {
  std::string header = std::string("v1a,AAAA  ") + sw_expected + " ";
  BOOST_TEST(verify_standard_signature(header, {sw_key()}, sw_id, sw_timestamp, sw_body));
}

BOOST_AUTO_TEST_CASE(verify_rejects_tampering) {
  auto key = sw_key();
  BOOST_TEST(!verify_standard_signature(sw_expected, {key}, sw_id, sw_timestamp, R"({"test": 2432232315})"));
  BOOST_TEST(!verify_standard_signature(sw_expected, {key}, sw_id, sw_timestamp + 1, sw_body));
  BOOST_TEST(!verify_standard_signature(sw_expected, {key}, "msg_other", sw_timestamp, sw_body));
  BOOST_TEST(!verify_standard_signature(sw_expected, {"wrong-key"}, sw_id, sw_timestamp, sw_body));
  BOOST_TEST(!verify_standard_signature(sw_expected, {}, sw_id, sw_timestamp, sw_body));
}

BOOST_AUTO_TEST_CASE(verify_rejects_malformed_headers) {
  auto key = sw_key();
  std::string sig = std::string(sw_expected).substr(3); // without "v1,"
  const std::vector<std::string> headers{"",       " ",   sig,         "v2," + sig, "v1," + sig.substr(1),
                                         "v1,***", "v1,", "v1 " + sig, "V1," + sig};
  for (const auto& header : headers)
    BOOST_TEST(!verify_standard_signature(header, {key}, sw_id, sw_timestamp, sw_body),
               "header: '" << header << "'");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(legacy)

BOOST_AUTO_TEST_CASE(known_vectors) {
  BOOST_TEST(legacy_signature("audit-secret", R"({"a":1})") ==
             "sha256=3cf462f2b576efccf3ac4f6d8019e515463042e29ec337cbd03479048f23e4b7");
  BOOST_TEST(legacy_signature(sw_key(), sw_body) ==
             "sha256=e2cb4f5251572539d458bfb8a7adb533b08801e6a794467e06f771debbb0818b");
}

BOOST_AUTO_TEST_CASE(verify_round_trip_and_rejections) {
  std::string body = R"({"a":1})";
  std::string header = legacy_signature("audit-secret", body);
  BOOST_TEST(verify_legacy_signature(header, {"other", "audit-secret"}, body));
  BOOST_TEST(!verify_legacy_signature(header, {"other"}, body));
  BOOST_TEST(!verify_legacy_signature(header, {"audit-secret"}, R"({"a":2})"));
  // Hex digits are case-insensitive on the way in.
  std::string upper = "sha256=3CF462F2B576EFCCF3AC4F6D8019E515463042E29EC337CBD03479048F23E4B7";
  BOOST_TEST(verify_legacy_signature(upper, {"audit-secret"}, body));
  BOOST_TEST(!verify_legacy_signature(header.substr(7), {"audit-secret"}, body));
  BOOST_TEST(!verify_legacy_signature(header.substr(0, header.size() - 1), {"audit-secret"}, body));
  BOOST_TEST(!verify_legacy_signature("sha256=zz" + header.substr(9), {"audit-secret"}, body));
  BOOST_TEST(!verify_legacy_signature("", {"audit-secret"}, body));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(encoding)

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors_round_trip) {
  const std::vector<std::pair<std::string, std::string>> vectors{{"", ""},
                                                                 {"f", "Zg=="},
                                                                 {"fo", "Zm8="},
                                                                 {"foo", "Zm9v"},
                                                                 {"foob", "Zm9vYg=="},
                                                                 {"fooba", "Zm9vYmE="},
                                                                 {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    BOOST_TEST(base64_encode(plain) == encoded);
    auto decoded = base64_decode(encoded);
    BOOST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == plain);
  }
}

BOOST_AUTO_TEST_CASE(base64_binary_round_trip) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 7) {
    auto part = all.substr(all.size() - len);
    auto decoded = base64_decode(base64_encode(part));
    BOOST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == part);
  }
}

BOOST_AUTO_TEST_CASE(base64_unpadded_is_accepted) {
  BOOST_TEST(base64_decode("Zg").value_or("?") == "f");
  BOOST_TEST(base64_decode("Zm8").value_or("?") == "fo");
}

BOOST_AUTO_TEST_CASE(base64_invalid_is_rejected) {
  for (const char* text : {"Z", "Zg=", "Zm8==", "Zg===", "=", "==", "Zm9v=", "Z===", "Zm 9v", "Zm9v\n",
                           "Zm-_", "Zm9v!A==", "Zg==Zg==", "Zh==", "Zm9=", "=Zm9"})
    BOOST_TEST(!base64_decode(text).has_value(), "accepted '" << text << "'");
}

BOOST_AUTO_TEST_CASE(hex_is_lowercase) {
  BOOST_TEST(hex_encode(std::string("\x00\x0f\xab\xff", 4)) == "000fabff");
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_lengths_and_bytes) {
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "ab"));
  BOOST_TEST(!constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

BOOST_AUTO_TEST_SUITE_END()

// The request of one delivery attempt: every header of the delivery contract,
// signed over the exact body, for each secret during rotation.
BOOST_AUTO_TEST_SUITE(webhook_request)

std::vector<std::string> lines_of(const http_request& r) {
  std::vector<std::string> out;
  r.headers.each([&](const char* line) { out.push_back(line); });
  return out;
}

BOOST_AUTO_TEST_CASE(the_standard_webhooks_vector_as_a_whole_request) {
  subscriber_config cfg;
  cfg.name = "billing";
  cfg.url = "https://billing.example.com/hooks";
  cfg.secrets = {sw_secret, "audit-secret"};
  cfg.timeout_ms = 1234;
  event_payload p;
  p.id = sw_id;
  p.type = "order.created";
  p.body = std::make_shared<const std::string>(sw_body);
  auto req = webhook_signer{cfg}.request_for(p, sw_timestamp * 1000 + 999);
  BOOST_TEST(req.url == cfg.url);
  BOOST_TEST(req.timeout_ms == 1234u);
  BOOST_TEST(req.body.get() == p.body.get()); // shared, not copied
  auto audit = standard_signature("audit-secret", sw_id, sw_timestamp, sw_body);
  auto expected = std::vector<std::string>{
    "Content-Type: application/json",
    "User-Agent: volley/" VOLLEY_VERSION,
    std::string{"webhook-id: "} + sw_id,
    "webhook-timestamp: 1614265330",
    std::string{"X-Webhook-ID: "} + sw_id,
    "X-Webhook-Timestamp: 1614265330",
    "X-Event-Type: order.created",
    std::string{"webhook-signature: "} + sw_expected + " " + audit,
    "X-Webhook-Signature: " + legacy_signature(sw_key(), sw_body),
  };
  BOOST_TEST(lines_of(req) == expected, boost::test_tools::per_element());
}

// Receivers that read another name verify unchanged: the same value (the
// first secret's, during rotation too) under the subscriber's header.
BOOST_AUTO_TEST_CASE(the_legacy_signature_goes_under_the_configured_header) {
  subscriber_config cfg;
  cfg.url = "https://hooks.example.com/github";
  cfg.secrets = {sw_secret, "audit-secret"};
  cfg.legacy_signature_header = "X-Hub-Signature-256";
  event_payload p;
  p.id = sw_id;
  p.type = "order.created";
  p.body = std::make_shared<const std::string>(sw_body);
  auto lines = lines_of(webhook_signer{cfg}.request_for(p, sw_timestamp * 1000));
  BOOST_REQUIRE(!lines.empty());
  BOOST_TEST(lines.back() == "X-Hub-Signature-256: " + legacy_signature(sw_key(), sw_body));
  BOOST_TEST(lines.back().rfind("X-Hub-Signature-256: sha256=", 0) == 0u);
  for (const auto& line : lines)
    BOOST_TEST(line.rfind("X-Webhook-Signature:", 0) != 0u, line);
  std::string standard;
  for (const auto& line : lines)
    if (line.rfind("webhook-signature: ", 0) == 0)
      standard = line;
  BOOST_TEST(standard == std::string{"webhook-signature: "} + sw_expected + " " +
                           standard_signature("audit-secret", sw_id, sw_timestamp, sw_body));
}

BOOST_AUTO_TEST_CASE(a_legacy_header_name_is_a_token_and_not_a_header_already_sent) {
  BOOST_TEST(!signature_header_problem("X-Webhook-Signature").has_value());
  BOOST_TEST(!signature_header_problem("X-Webhook-Signature-256").has_value());
  BOOST_TEST(!signature_header_problem("X-Hub-Signature-256").has_value());
  BOOST_TEST(signature_header_problem("").has_value());
  BOOST_TEST(signature_header_problem("X Sig").has_value());
  BOOST_TEST(signature_header_problem("X-Sig:").has_value());
  BOOST_TEST(signature_header_problem("X-Sig\n").has_value());
  BOOST_TEST(signature_header_problem("x-webhook-id").has_value());
  BOOST_TEST(signature_header_problem("WEBHOOK-SIGNATURE").has_value());
}

BOOST_AUTO_TEST_CASE(no_secret_no_signature_headers) {
  subscriber_config cfg;
  cfg.url = "http://127.0.0.1:9/";
  auto p = test_event("billing", 1700000000000);
  BOOST_TEST(p.type == "volley.test");
  BOOST_TEST(p.body->find("\"subscriber\":\"billing\"") != std::string::npos);
  for (const auto& line : lines_of(webhook_signer{cfg}.request_for(p, 1700000000000)))
    BOOST_TEST(line.find("ignature") == std::string::npos, line);
}

BOOST_AUTO_TEST_SUITE_END()
