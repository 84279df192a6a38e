#include "protocol/json_text.hpp"

namespace volley {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string json_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, items[i]);
  }
  return out + "]";
}

bool valid_utf8(std::string_view text) {
  size_t i = 0, n = text.size();
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return k < n && byte(k) >= lo && byte(k) <= hi;
  };
  while (i < n) {
    auto c = byte(i);
    if (c < 0x80) {
      i += 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1))
        return false;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      // E0: no overlong forms; ED: no UTF-16 surrogates (U+D800..U+DFFF).
      unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2))
        return false;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3))
        return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

} // namespace volley
