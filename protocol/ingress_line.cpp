#include "protocol/ingress_line.hpp"

#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <set>

namespace volley {

namespace {

// The iterative reader keeps its stack on the heap and the writer streams,
// so no nesting depth can exhaust the thread's stack; no DOM is built.
constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// SAX handler for one line: reads the top-level fields and copies "data",
// compacted, into its own buffer as it streams past.
class line_reader : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, line_reader> {
public:
  parsed_line result() {
    parsed_line out;
    if (!has_op_ && error_.empty() && ev_.type.empty() && !type_seen_)
      error_ = "\"type\" is required";
    if (has_op_) {
      out.what = parsed_line::kind::op;
      out.op = std::move(op_);
    } else if (!error_.empty()) {
      out.what = parsed_line::kind::error;
      out.error = std::move(error_);
    } else {
      out.what = parsed_line::kind::event;
      if (data_seen_)
        ev_.data.assign(data_.GetString(), data_.GetSize());
      out.event = std::move(ev_);
    }
    return out;
  }

  const std::string& shape_error() const { return shape_error_; }

  bool StartObject() {
    if (depth_ == 0 && !started_) {
      started_ = true;
      depth_ = 1;
      return true;
    }
    ++depth_;
    return forward([&](auto& w) { return w.StartObject(); });
  }

  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return depth_ == 0 || forward_end([&](auto& w) { return w.EndObject(); });
  }

  bool StartArray() {
    if (!started_)
      return not_an_object();
    ++depth_;
    return forward([&](auto& w) { return w.StartArray(); });
  }

  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return forward_end([&](auto& w) { return w.EndArray(); });
  }

  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!valid_utf8({s, n}))
      return bad_utf8();
    if (in_data())
      return data_writer_.Key(s, n);
    if (depth_ == 1) {
      key_.assign(s, n);
      // A repeated field would be ambiguous, and a second "data" would
      // append a second value to the body.
      if (!seen_keys_.insert(key_).second) {
        shape_error_ = "field \"" + key_ + "\" appears twice";
        return false;
      }
      if (key_ == "data") {
        data_seen_ = true;
        data_depth_ = 1;
      }
    }
    return true;
  }

  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!valid_utf8({s, n}))
      return bad_utf8();
    return value([&](auto& w) { return w.String(s, n); }, std::string_view{s, n}, true, 0);
  }
  bool Null() {
    return value([](auto& w) { return w.Null(); }, {}, false, 1);
  }
  bool Bool(bool b) {
    return value([&](auto& w) { return w.Bool(b); }, {}, false, 1);
  }
  bool Int(int i) {
    return value([&](auto& w) { return w.Int(i); }, {}, false, 2, i);
  }
  bool Uint(unsigned u) {
    return value([&](auto& w) { return w.Uint(u); }, {}, false, 2, u <= 3 ? static_cast<int>(u) : 99);
  }
  bool Int64(int64_t i) {
    return value([&](auto& w) { return w.Int64(i); }, {}, false, 1);
  }
  bool Uint64(uint64_t u) {
    return value([&](auto& w) { return w.Uint64(u); }, {}, false, 1);
  }
  bool Double(double d) {
    return value([&](auto& w) { return w.Double(d); }, {}, false, 1);
  }

private:
  using writer = rapidjson::Writer<rapidjson::StringBuffer>;

  bool in_data() const { return data_depth_ > 0; }

  template <class F>
  bool forward(F&& f) {
    if (!started_)
      return not_an_object();
    if (in_data())
      return f(data_writer_);
    if (depth_ == 2)
      field_error(); // an object or array where a top-level field expects a scalar
    return true;
  }

  template <class F>
  bool forward_end(F&& f) {
    if (!in_data())
      return true;
    bool ok = f(data_writer_);
    if (depth_ == 1) // the data value is complete
      data_depth_ = 0;
    return ok;
  }

  // kind: 0 string, 1 other scalar, 2 int (with its value)
  template <class F>
  bool value(F&& f, std::string_view text, bool is_string, int kind, int int_value = 0) {
    if (!started_)
      return not_an_object();
    if (in_data()) {
      bool ok = f(data_writer_);
      if (depth_ == 1)
        data_depth_ = 0;
      return ok;
    }
    if (depth_ != 1)
      return true; // inside some other field of a control line
    if (key_ == "type") {
      type_seen_ = true;
      if (!is_string || text.empty())
        set_error("\"type\" must be a non-empty string");
      else if (text.size() > max_event_type_bytes)
        set_error("\"type\" is longer than 256 bytes");
      else
        ev_.type.assign(text);
    } else if (key_ == "id") {
      if (!is_string || text.empty())
        set_error("\"id\" must be a non-empty string");
      else if (text.size() > max_event_id_bytes)
        set_error("\"id\" is longer than 256 bytes");
      else
        ev_.id.assign(text);
    } else if (key_ == "key") {
      if (!is_string || text.empty())
        set_error("\"key\" must be a non-empty string");
      else if (text.size() > max_event_id_bytes)
        set_error("\"key\" is longer than 256 bytes");
      else
        ev_.key.assign(text);
    } else if (key_ == "priority") {
      if (kind != 2 || int_value < 0 || int_value > 3)
        set_error("\"priority\" must be an integer from 0 to 3");
      else
        ev_.priority = int_value;
    } else if (key_ == "op") {
      if (!is_string || text.empty()) {
        shape_error_ = "\"op\" must be a non-empty string";
        return false;
      }
      has_op_ = true;
      op_.assign(text);
    } else {
      unknown_field();
    }
    return true;
  }

  void field_error() {
    if (key_ == "type")
      type_seen_ = true, set_error("\"type\" must be a non-empty string");
    else if (key_ == "id")
      set_error("\"id\" must be a non-empty string");
    else if (key_ == "key")
      set_error("\"key\" must be a non-empty string");
    else if (key_ == "priority")
      set_error("\"priority\" must be an integer from 0 to 3");
    else if (key_ == "op") {
      shape_error_ = "\"op\" must be a non-empty string";
    } else
      unknown_field();
  }

  void unknown_field() {
    // Control lines carry fields of their own; events know only these.
    set_error("unknown field \"" + key_ + "\" (an event has type, data, id, priority)");
  }

  void set_error(std::string e) {
    if (error_.empty())
      error_ = std::move(e);
  }

  bool not_an_object() {
    shape_error_ = "each line must be a JSON object";
    return false;
  }

  bool bad_utf8() {
    shape_error_ = "invalid UTF-8 in a string";
    return false;
  }

  int depth_ = 0;
  bool started_ = false;
  std::string key_;
  std::set<std::string> seen_keys_; // top-level fields so far
  size_t data_depth_ = 0;
  bool data_seen_ = false;
  bool type_seen_ = false;
  bool has_op_ = false;
  std::string op_;
  parsed_event ev_;
  std::string error_;       // the first problem with an event's fields
  std::string shape_error_; // stops the parse: not an object, bad op, bad UTF-8
  rapidjson::StringBuffer data_;
  writer data_writer_{data_};
};

parsed_line fail(std::string message) {
  parsed_line out;
  out.what = parsed_line::kind::error;
  out.error = std::move(message);
  return out;
}

} // namespace

parsed_line parse_ingress_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  rapidjson::MemoryStream stream{line.data(), line.size()};
  rapidjson::Reader reader;
  line_reader handler;
  auto ok = reader.Parse<parse_flags>(stream, handler);
  if (!handler.shape_error().empty())
    return fail(handler.shape_error());
  if (ok.IsError())
    return fail(std::string{"invalid JSON at offset "} + std::to_string(ok.Offset()) + ": " +
                rapidjson::GetParseError_En(ok.Code()));
  return handler.result();
}

std::string event_line(const parsed_event& event) {
  std::string out;
  out.reserve(event.data.size() + event.type.size() + event.id.size() + event.key.size() + 48);
  out += "{\"type\":";
  append_json_string(out, event.type);
  if (!event.id.empty()) {
    out += ",\"id\":";
    append_json_string(out, event.id);
  }
  if (event.priority != no_priority)
    out += ",\"priority\":" + std::to_string(event.priority);
  if (!event.key.empty()) {
    out += ",\"key\":";
    append_json_string(out, event.key);
  }
  out += ",\"data\":";
  out += event.data;
  out += '}';
  return out;
}

std::string ack_line(std::string_view id, bool duplicate) {
  std::string out;
  out.reserve(id.size() + 40);
  out += "{\"ok\":true,\"id\":";
  append_json_string(out, id);
  if (duplicate)
    out += ",\"duplicate\":true";
  out += "}\n";
  return out;
}

std::string error_line(std::string_view error) {
  std::string out = "{\"ok\":false,\"error\":";
  append_json_string(out, error);
  out += "}\n";
  return out;
}

std::string delivery_body(std::string_view id, std::string_view type, int64_t created_ms,
                          std::string_view data_json) {
  std::string out;
  out.reserve(data_json.size() + id.size() + type.size() + 80);
  out += "{\"id\":";
  append_json_string(out, id);
  out += ",\"type\":";
  append_json_string(out, type);
  out += ",\"timestamp\":\"";
  out += format_rfc3339_ms(created_ms);
  out += "\",\"data\":";
  out.append(data_json.data(), data_json.size());
  out += '}';
  return out;
}

std::string generate_event_id() {
  // A random per-process prefix plus a counter: unique without a syscall per id.
  static const uint64_t prefix = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  static std::atomic<uint64_t> counter{0};
  // "evt_", then both as 16 lowercase hex digits.
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(36, '0');
  std::memcpy(id.data(), "evt_", 4);
  auto put_hex = [&](uint64_t value, size_t at) {
    for (size_t i = at + 16; i > at; value >>= 4)
      id[--i] = digits[value & 15];
  };
  put_hex(prefix, 4);
  put_hex(counter.fetch_add(1, std::memory_order_relaxed), 20);
  return id;
}

bool looks_generated(std::string_view id) {
  if (id.size() != 36 || id.substr(0, 4) != "evt_")
    return false;
  for (char c : id.substr(4))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace volley
