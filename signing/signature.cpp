// SHA-256's low-level interface is deprecated in OpenSSL 3 but kept: it is
// the only one whose state can be copied without an allocation, which a
// prepared HMAC key needs (EVP_MD_CTX_copy_ex duplicates provider state on
// the heap).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "signing/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>

namespace volley {

namespace {

constexpr std::string_view whsec_prefix = "whsec_";
constexpr std::string_view v1_prefix = "v1,";
constexpr std::string_view sha256_prefix = "sha256=";

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// -1 for a byte outside the standard alphabet ('=' included).
constexpr std::array<int8_t, 256> make_base64_table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table)
    entry = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto base64_table = make_base64_table();

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = hex_value(text[i]);
    int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    out.push_back(static_cast<char>((high << 4) | low));
  }
  return out;
}

std::string_view trim_spaces(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

} // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length of an HMAC is public; only the bytes must not leak via timing.
  if (a.size() != b.size())
    return false;
  if (a.empty())
    return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct hmac_key::pads {
  SHA256_CTX inner;                                // after the key xor 0x36.. block
  SHA256_CTX outer;                                // after the key xor 0x5c.. block
  ~pads() { OPENSSL_cleanse(this, sizeof *this); } // they stand for the key
};

hmac_key::hmac_key(std::string_view key) {
  // A key longer than SHA-256's block is hashed first (RFC 2104); a shorter
  // one is padded with zeros.
  std::array<unsigned char, SHA256_CBLOCK> block{};
  if (key.size() > block.size())
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block.data());
  else if (!key.empty())
    std::memcpy(block.data(), key.data(), key.size());
  std::array<unsigned char, SHA256_CBLOCK> inner_pad, outer_pad;
  for (size_t i = 0; i < block.size(); ++i) {
    inner_pad[i] = block[i] ^ 0x36;
    outer_pad[i] = block[i] ^ 0x5c;
  }
  auto p = std::make_shared<pads>();
  SHA256_Init(&p->inner);
  SHA256_Update(&p->inner, inner_pad.data(), inner_pad.size());
  SHA256_Init(&p->outer);
  SHA256_Update(&p->outer, outer_pad.data(), outer_pad.size());
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(inner_pad.data(), inner_pad.size());
  OPENSSL_cleanse(outer_pad.data(), outer_pad.size());
  pads_ = std::move(p);
}

std::string hmac_key::mac(std::initializer_list<std::string_view> pieces) const {
  SHA256_CTX ctx = pads_->inner;
  for (auto piece : pieces)
    SHA256_Update(&ctx, piece.data(), piece.size());
  unsigned char inner[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner, &ctx);
  ctx = pads_->outer;
  SHA256_Update(&ctx, inner, sizeof inner);
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return hmac_key{key}.mac({message});
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t at) { return static_cast<unsigned char>(bytes[at]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(base64_alphabet[(group >> 18) & 63]);
    out.push_back(base64_alphabet[(group >> 12) & 63]);
    out.push_back(base64_alphabet[(group >> 6) & 63]);
    out.push_back(base64_alphabet[group & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t group = byte(i) << 16;
    out.push_back(base64_alphabet[(group >> 18) & 63]);
    out.push_back(base64_alphabet[(group >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(base64_alphabet[(group >> 18) & 63]);
    out.push_back(base64_alphabet[(group >> 12) & 63]);
    out.push_back(base64_alphabet[(group >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // Padding is optional (some secret generators strip it) but, when present,
  // must complete the last group; nothing may follow it.
  size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  if (padding > 0 && (text.size() + padding) % 4 != 0)
    return std::nullopt;
  if (text.size() % 4 == 1)
    return std::nullopt; // one character cannot encode a whole byte
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    int value = base64_table[static_cast<unsigned char>(c)];
    if (value < 0)
      return std::nullopt;
    group = (group << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((group >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero: otherwise two different texts would decode
  // to the same key, which hides a mistyped secret.
  if ((group & ((1u << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::optional<std::string> signing_key_from_secret(std::string_view secret) {
  if (secret.substr(0, whsec_prefix.size()) == whsec_prefix)
    return base64_decode(secret.substr(whsec_prefix.size()));
  return std::string{secret};
}

namespace {

// The MAC of "{id}.{timestamp}.{body}", without building that text.
std::string standard_mac(const hmac_key& key, std::string_view id, int64_t timestamp, std::string_view body) {
  auto ts = std::to_string(timestamp);
  return key.mac({id, ".", ts, ".", body});
}

std::vector<hmac_key> prepared(const std::vector<std::string>& keys) { return {keys.begin(), keys.end()}; }

} // namespace

std::string standard_signature(std::string_view key, std::string_view id, int64_t timestamp,
                               std::string_view body) {
  return standard_signature_header({hmac_key{key}}, id, timestamp, body);
}

std::string standard_signature_header(const std::vector<hmac_key>& keys, std::string_view id,
                                      int64_t timestamp, std::string_view body) {
  std::string header;
  for (const auto& key : keys) {
    if (!header.empty())
      header.push_back(' ');
    header.append(v1_prefix).append(base64_encode(standard_mac(key, id, timestamp, body)));
  }
  return header;
}

std::string standard_signature_header(const std::vector<std::string>& keys, std::string_view id,
                                      int64_t timestamp, std::string_view body) {
  return standard_signature_header(prepared(keys), id, timestamp, body);
}

std::string legacy_signature(const hmac_key& key, std::string_view body) {
  std::string out{sha256_prefix};
  out += hex_encode(key.mac({body}));
  return out;
}

std::string legacy_signature(std::string_view key, std::string_view body) {
  return legacy_signature(hmac_key{key}, body);
}

bool verify_standard_signature(std::string_view header, const std::vector<std::string>& keys,
                               std::string_view id, int64_t timestamp, std::string_view body) {
  if (keys.empty())
    return false;
  std::vector<std::string> expected;
  expected.reserve(keys.size());
  for (const auto& key : prepared(keys))
    expected.push_back(standard_mac(key, id, timestamp, body));
  // Entries of other versions (e.g. "v1a," asymmetric) are skipped, as the
  // Standard Webhooks spec asks of receivers.
  while (!header.empty()) {
    auto end = header.find(' ');
    auto entry = header.substr(0, end);
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
    if (entry.substr(0, v1_prefix.size()) != v1_prefix)
      continue;
    auto given = base64_decode(entry.substr(v1_prefix.size()));
    if (!given)
      continue;
    for (const auto& mac : expected)
      if (constant_time_equal(*given, mac))
        return true;
  }
  return false;
}

bool verify_legacy_signature(std::string_view header, const std::vector<std::string>& keys,
                             std::string_view body) {
  header = trim_spaces(header);
  if (header.substr(0, sha256_prefix.size()) != sha256_prefix)
    return false;
  auto given = hex_decode(header.substr(sha256_prefix.size()));
  if (!given)
    return false;
  for (const auto& key : keys)
    if (constant_time_equal(*given, hmac_sha256(key, body)))
      return true;
  return false;
}

} // namespace volley
