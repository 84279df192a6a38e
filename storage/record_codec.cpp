#include "storage/record_codec.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace volley {

namespace {

constexpr uint8_t max_priority = 3;
constexpr uint64_t max_string_size = std::numeric_limits<uint32_t>::max();

// Appends fixed-width little-endian integers and length-prefixed strings.
// Byte-by-byte shifts keep the layout independent of the host's endianness;
// compilers turn them into plain stores.
class byte_writer {
public:
  explicit byte_writer(std::string& out) : out_(out) { out_.clear(); }

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }

  void u32(uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i)
      b[i] = static_cast<char>(v >> (8 * i));
    out_.append(b, sizeof b);
  }

  void u64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<char>(v >> (8 * i));
    out_.append(b, sizeof b);
  }

  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }

  // check_batch has refused strings longer than a u32 can say.
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }

private:
  std::string& out_;
};

// Reads what byte_writer wrote. The first short read latches the status to
// `truncated`; later reads then return zeros, so decoders read every field
// unconditionally and check the status once at the end.
class byte_reader {
public:
  explicit byte_reader(std::string_view in) : in_(in) {}

  uint8_t u8() {
    if (!take(1))
      return 0;
    return static_cast<uint8_t>(in_[pos_ - 1]);
  }

  uint32_t u32() {
    if (!take(4))
      return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t{static_cast<uint8_t>(in_[pos_ - 4 + i])} << (8 * i);
    return v;
  }

  uint64_t u64() {
    if (!take(8))
      return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t{static_cast<uint8_t>(in_[pos_ - 8 + i])} << (8 * i);
    return v;
  }

  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }

  void str(std::string& out) {
    uint32_t size = u32();
    // Checked before allocating: a corrupt length must not ask for 4 GiB.
    if (!take(size)) {
      out.clear();
      return;
    }
    out.assign(in_.data() + pos_ - size, size);
  }

  void fail(decode_status status) {
    if (status_ == decode_status::ok)
      status_ = status;
  }

  // The outcome once every field has been read.
  decode_status finish() {
    if (status_ == decode_status::ok && pos_ != in_.size())
      status_ = decode_status::trailing_bytes;
    return status_;
  }

private:
  bool take(size_t n) {
    if (status_ == decode_status::truncated || in_.size() - pos_ < n) {
      status_ = decode_status::truncated;
      return false;
    }
    pos_ += n;
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  decode_status status_ = decode_status::ok;
};

uint8_t read_priority(byte_reader& r) {
  uint8_t p = r.u8();
  if (p > max_priority)
    r.fail(decode_status::bad_field);
  return p;
}

std::string describe(const delivery_key& key) {
  return "'" + key.subscriber + "'/" + std::to_string(key.event_seq);
}

// The part of check_batch every key goes through.
std::string check_key(const delivery_key& key, const char* where) {
  if (!is_storable_subscriber(key.subscriber)) {
    std::string shown;
    for (char c : key.subscriber)
      shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    return std::string(where) + ": subscriber name '" + shown +
           "' cannot be stored (it must be non-empty and hold no NUL byte)";
  }
  return {};
}

std::string check_priority(uint8_t priority, const delivery_key& key, const char* where) {
  if (priority > max_priority)
    return std::string(where) + ": delivery " + describe(key) + " has priority " + std::to_string(priority) +
           " (must be 0..3)";
  return {};
}

std::string check_size(std::string_view field, const char* name, uint64_t seq) {
  if (field.size() > max_string_size)
    return std::string("event ") + std::to_string(seq) + ": " + name +
           " is larger than 4 GiB and cannot be stored";
  return {};
}

} // namespace

const char* to_string(decode_status status) {
  switch (status) {
    case decode_status::ok:
      return "ok";
    case decode_status::truncated:
      return "value is truncated";
    case decode_status::trailing_bytes:
      return "value has trailing bytes";
    case decode_status::bad_field:
      return "value holds an impossible field";
  }
  return "unknown decode status";
}

bool is_storable_subscriber(std::string_view name) {
  return !name.empty() && name.find('\0') == std::string_view::npos;
}

void encode_seq_key(uint64_t seq, char (&out)[seq_key_size]) {
  for (size_t i = 0; i < seq_key_size; ++i)
    out[i] = static_cast<char>(seq >> (8 * (seq_key_size - 1 - i)));
}

bool decode_seq_key(std::string_view in, uint64_t& seq) {
  if (in.size() != seq_key_size)
    return false;
  seq = 0;
  for (size_t i = 0; i < seq_key_size; ++i)
    seq = (seq << 8) | static_cast<uint8_t>(in[i]);
  return true;
}

void encode_subscriber_prefix(std::string_view subscriber, std::string& out) {
  out.assign(subscriber.data(), subscriber.size());
  out.push_back('\0');
}

void encode_delivery_key(const delivery_key& key, std::string& out) {
  encode_subscriber_prefix(key.subscriber, out);
  char seq[seq_key_size];
  encode_seq_key(key.event_seq, seq);
  out.append(seq, sizeof seq);
}

bool decode_delivery_key(std::string_view in, delivery_key& out) {
  if (in.size() < seq_key_size + 2) // at least one name byte and the NUL
    return false;
  std::string_view name = in.substr(0, in.size() - seq_key_size - 1);
  if (in[name.size()] != '\0' || !is_storable_subscriber(name))
    return false;
  out.subscriber.assign(name.data(), name.size());
  return decode_seq_key(in.substr(in.size() - seq_key_size), out.event_seq);
}

void encode_id_time_key(int64_t accepted_ms, std::string_view id, std::string& out) {
  char time[seq_key_size];
  encode_seq_key(static_cast<uint64_t>(accepted_ms), time);
  out.assign(time, sizeof time);
  out.append(id.data(), id.size());
}

bool decode_id_time_key(std::string_view in, remembered_id& out) {
  uint64_t time = 0;
  if (in.size() <= seq_key_size || !decode_seq_key(in.substr(0, seq_key_size), time) ||
      time > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return false;
  out.accepted_ms = static_cast<int64_t>(time);
  out.id.assign(in.substr(seq_key_size));
  return true;
}

void encode_accept_time(int64_t accepted_ms, std::string& out) { byte_writer{out}.i64(accepted_ms); }

bool decode_accept_time(std::string_view in, int64_t& accepted_ms) {
  byte_reader r{in};
  accepted_ms = r.i64();
  return r.finish() == decode_status::ok;
}

void encode_event(const event_record& event, uint32_t refcount, std::string& out) {
  byte_writer w(out);
  w.u32(refcount);
  w.str(event.id);
  w.str(event.type);
  w.i64(event.created_ms);
  w.str(event.body);
}

decode_status decode_event(std::string_view in, uint64_t seq, event_record& out, uint32_t& refcount) {
  byte_reader r(in);
  refcount = r.u32();
  r.str(out.id);
  r.str(out.type);
  out.created_ms = r.i64();
  r.str(out.body);
  out.seq = seq;
  return r.finish();
}

decode_status decode_event_refcount(std::string_view in, uint32_t& refcount) {
  // A full decode would copy the body only to throw it away.
  byte_reader r(in.substr(0, 4));
  refcount = r.u32();
  return r.finish();
}

void set_event_refcount(std::string& value, uint32_t refcount) {
  for (size_t i = 0; i < 4 && i < value.size(); ++i)
    value[i] = static_cast<char>(refcount >> (8 * i));
}

void encode_delivery(const delivery_record& delivery, std::string& out) {
  byte_writer w(out);
  w.u8(delivery.priority);
  w.u32(delivery.attempts);
  w.i64(delivery.next_attempt_ms);
  w.i64(delivery.created_ms);
}

decode_status decode_delivery(std::string_view in, const delivery_key& key, delivery_record& out) {
  byte_reader r(in);
  out.priority = read_priority(r);
  out.attempts = r.u32();
  out.next_attempt_ms = r.i64();
  out.created_ms = r.i64();
  out.key = key;
  return r.finish();
}

void encode_dlq(const dlq_record& record, std::string& out) {
  byte_writer w(out);
  w.str(record.event_id);
  w.str(record.type);
  w.str(record.body);
  w.u8(record.priority);
  w.u32(record.attempts);
  w.i32(record.last_status);
  w.str(record.last_error);
  w.i64(record.created_ms);
  w.i64(record.failed_ms);
}

decode_status decode_dlq(std::string_view in, const delivery_key& key, dlq_record& out) {
  byte_reader r(in);
  r.str(out.event_id);
  r.str(out.type);
  r.str(out.body);
  out.priority = read_priority(r);
  out.attempts = r.u32();
  out.last_status = r.i32();
  r.str(out.last_error);
  out.created_ms = r.i64();
  out.failed_ms = r.i64();
  out.key = key;
  return r.finish();
}

void encode_subscriber_status(const subscriber_status& status, std::string& out) {
  byte_writer w(out);
  w.i64(status.since_ms);
  w.str(status.reason);
}

decode_status decode_subscriber_status(std::string_view in, std::string_view subscriber,
                                       subscriber_status& out) {
  byte_reader r(in);
  out.since_ms = r.i64();
  r.str(out.reason);
  out.subscriber.assign(subscriber.data(), subscriber.size());
  out.disabled = true;
  return r.finish();
}

void encode_subscriber_definition(const subscriber_definition& definition, std::string& out) {
  byte_writer w(out);
  w.i64(definition.updated_ms);
  w.str(definition.json);
}

decode_status decode_subscriber_definition(std::string_view in, std::string_view name,
                                           subscriber_definition& out) {
  byte_reader r(in);
  out.updated_ms = r.i64();
  r.str(out.json);
  out.name.assign(name.data(), name.size());
  out.deleted = false;
  return r.finish();
}

namespace {

void append_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

bool take_be(std::string_view& in, int bytes, uint64_t& v) {
  if (in.size() < static_cast<size_t>(bytes))
    return false;
  v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
  in.remove_prefix(static_cast<size_t>(bytes));
  return true;
}

void append_short_string(std::string& out, std::string_view s) {
  append_be(out, s.size(), 2);
  out.append(s.data(), s.size());
}

bool take_short_string(std::string_view& in, std::string& out) {
  uint64_t len = 0;
  if (!take_be(in, 2, len) || in.size() < len)
    return false;
  out.assign(in.substr(0, len));
  in.remove_prefix(len);
  return true;
}

// The part of an attempt's key after its event id.
void append_attempt_tail(std::string& out, const logged_attempt& a) {
  append_short_string(out, a.subscriber);
  append_be(out, static_cast<uint64_t>(a.at_ms), 8);
  append_be(out, a.attempt, 4);
}

bool take_attempt_tail(std::string_view& in, logged_attempt& a) {
  uint64_t at = 0, attempt = 0;
  if (!take_short_string(in, a.subscriber) || !take_be(in, 8, at) || !take_be(in, 4, attempt) ||
      at > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return false;
  a.at_ms = static_cast<int64_t>(at);
  a.attempt = static_cast<uint32_t>(attempt);
  return true;
}

} // namespace

void encode_log_event_key(std::string_view id, std::string& out) {
  out.clear();
  append_short_string(out, id);
}

void encode_logged_event(const logged_event& event, std::string& out) {
  byte_writer w(out);
  w.i64(event.created_ms);
  w.str(event.type);
  w.str(event.body);
}

decode_status decode_logged_event(std::string_view in, std::string_view id, logged_event& out) {
  byte_reader r(in);
  out.created_ms = r.i64();
  r.str(out.type);
  r.str(out.body);
  out.id.assign(id.data(), id.size());
  return r.finish();
}

void encode_log_attempt_key(const logged_attempt& attempt, std::string& out) {
  out.clear();
  append_short_string(out, attempt.event_id);
  append_attempt_tail(out, attempt);
}

bool decode_log_attempt_key(std::string_view in, logged_attempt& out) {
  return take_short_string(in, out.event_id) && take_attempt_tail(in, out) && in.empty();
}

void encode_logged_attempt(const logged_attempt& attempt, std::string& out) {
  byte_writer w(out);
  w.i32(attempt.status);
  uint64_t bits = 0;
  std::memcpy(&bits, &attempt.latency_ms, sizeof bits);
  w.u64(bits);
  w.u8(static_cast<uint8_t>(attempt.outcome));
  w.str(attempt.error);
}

decode_status decode_logged_attempt(std::string_view in, logged_attempt& out) {
  byte_reader r(in);
  out.status = r.i32();
  uint64_t bits = r.u64();
  std::memcpy(&out.latency_ms, &bits, sizeof bits);
  auto outcome = r.u8();
  r.str(out.error);
  auto st = r.finish();
  if (st != decode_status::ok)
    return st;
  if (outcome > static_cast<uint8_t>(attempt_outcome::replay))
    return decode_status::bad_field;
  out.outcome = static_cast<attempt_outcome>(outcome);
  return decode_status::ok;
}

void encode_log_time_key(int64_t at_ms, std::string_view id, std::string& out) {
  out.clear();
  append_be(out, static_cast<uint64_t>(at_ms), 8);
  out.push_back('e');
  append_short_string(out, id);
}

void encode_log_time_key(const logged_attempt& attempt, std::string& out) {
  out.clear();
  append_be(out, static_cast<uint64_t>(attempt.at_ms), 8);
  out.push_back('a');
  append_short_string(out, attempt.event_id);
  append_attempt_tail(out, attempt);
}

bool decode_log_time_key(std::string_view in, log_time_entry& out) {
  uint64_t at = 0;
  if (!take_be(in, 8, at) || in.empty() || at > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return false;
  out.at_ms = static_cast<int64_t>(at);
  out.kind = in[0];
  in.remove_prefix(1);
  out.attempt = logged_attempt{};
  if (!take_short_string(in, out.attempt.event_id))
    return false;
  if (out.kind == 'e')
    return in.empty();
  return out.kind == 'a' && take_attempt_tail(in, out.attempt) && in.empty();
}

std::string check_batch(const write_batch& batch) {
  std::string err;
  // Sorted copies find repeats without a node per entry (one per event in
  // every commit).
  std::vector<uint64_t> seqs;
  seqs.reserve(batch.events.size());
  for (const auto& ev : batch.events)
    seqs.push_back(ev.event.seq);
  std::sort(seqs.begin(), seqs.end());
  if (auto twice = std::adjacent_find(seqs.begin(), seqs.end()); twice != seqs.end())
    return "new events: seq " + std::to_string(*twice) + " appears twice in one batch";
  std::vector<std::string_view> subscribers;
  for (const auto& ev : batch.events) {
    const auto seq = ev.event.seq;
    if (!(err = check_size(ev.event.id, "id", seq)).empty() ||
        !(err = check_size(ev.event.type, "type", seq)).empty() ||
        !(err = check_size(ev.event.body, "body", seq)).empty())
      return err;
    subscribers.clear();
    for (const auto& d : ev.deliveries) {
      subscribers.push_back(d.key.subscriber);
      if (!(err = check_key(d.key, "new events")).empty() ||
          !(err = check_priority(d.priority, d.key, "new events")).empty())
        return err;
      if (d.key.event_seq != seq)
        return "new events: delivery " + describe(d.key) + " is listed under event " + std::to_string(seq) +
               " (its key must carry that seq)";
    }
    std::sort(subscribers.begin(), subscribers.end());
    if (auto twice = std::adjacent_find(subscribers.begin(), subscribers.end()); twice != subscribers.end())
      return "new events: event " + std::to_string(seq) + " has two deliveries for subscriber '" +
             std::string{*twice} + "'";
  }
  for (const auto& d : batch.updates)
    if (!(err = check_key(d.key, "updates")).empty() ||
        !(err = check_priority(d.priority, d.key, "updates")).empty())
      return err;
  for (const auto& k : batch.finished)
    if (!(err = check_key(k, "finished")).empty())
      return err;
  for (const auto& r : batch.dead_lettered)
    if (!(err = check_key(r.key, "dead_lettered")).empty() ||
        !(err = check_priority(r.priority, r.key, "dead_lettered")).empty() ||
        !(err = check_size(r.body, "dead-letter body", r.key.event_seq)).empty() ||
        !(err = check_size(r.last_error, "dead-letter last_error", r.key.event_seq)).empty())
      return err;
  for (const auto& k : batch.dlq_deleted)
    if (!(err = check_key(k, "dlq_deleted")).empty())
      return err;
  for (const auto& k : batch.dlq_requeued)
    if (!(err = check_key(k, "dlq_requeued")).empty())
      return err;
  for (const auto& r : batch.remembered) {
    if (r.id.empty() || r.id.size() > max_remembered_id_size)
      return "remembered ids: an id of " + std::to_string(r.id.size()) +
             " bytes cannot be stored (it must be 1.." + std::to_string(max_remembered_id_size) + " bytes)";
    if (r.accepted_ms < 0)
      return "remembered ids: id '" + r.id + "' has a negative accept time " + std::to_string(r.accepted_ms);
  }
  for (const auto& c : batch.status_changes) {
    if (!(err = check_key({c.subscriber, 0}, "status changes")).empty())
      return err;
    if (c.subscriber.size() > max_subscriber_name_size)
      return "status changes: a subscriber name of " + std::to_string(c.subscriber.size()) +
             " bytes cannot be stored (at most " + std::to_string(max_subscriber_name_size) + ")";
    if (c.reason.size() > max_string_size)
      return "status changes: the reason for subscriber '" + c.subscriber +
             "' is larger than 4 GiB and cannot be stored";
  }
  for (const auto& d : batch.definitions) {
    if (!(err = check_key({d.name, 0}, "subscriber definitions")).empty())
      return err;
    if (d.name.size() > max_subscriber_name_size)
      return "subscriber definitions: a subscriber name of " + std::to_string(d.name.size()) +
             " bytes cannot be stored (at most " + std::to_string(max_subscriber_name_size) + ")";
    if (d.json.size() > max_string_size)
      return "subscriber definitions: the definition of '" + d.name +
             "' is larger than 4 GiB and cannot be stored";
  }
  for (const auto& e : batch.logged_events)
    if (e.id.empty() || e.id.size() > max_logged_id_size || e.created_ms < 0)
      return "delivery log: an event id must be 1.." + std::to_string(max_logged_id_size) +
             " bytes with a time not before 1970";
  for (const auto& a : batch.logged_attempts) {
    if (a.event_id.empty() || a.event_id.size() > max_logged_id_size || a.at_ms < 0)
      return "delivery log: an attempt's event id must be 1.." + std::to_string(max_logged_id_size) +
             " bytes with a time not before 1970";
    if (!(err = check_key({a.subscriber, 0}, "delivery log")).empty())
      return err;
    if (a.subscriber.size() > max_logged_subscriber_size)
      return "delivery log: a subscriber name of " + std::to_string(a.subscriber.size()) +
             " bytes cannot be logged (at most " + std::to_string(max_logged_subscriber_size) + ")";
  }
  return {};
}

const char* to_string(attempt_outcome outcome) {
  switch (outcome) {
    case attempt_outcome::retrying:
      return "retrying";
    case attempt_outcome::delivered:
      return "delivered";
    case attempt_outcome::dead_lettered:
      return "dead_lettered";
    case attempt_outcome::disabled:
      return "disabled";
    case attempt_outcome::replay:
      return "replay";
  }
  return "retrying";
}

std::string encode_meta_u32(uint32_t v) {
  std::string out;
  byte_writer{out}.u32(v);
  return out;
}

std::string encode_meta_u64(uint64_t v) {
  std::string out;
  byte_writer{out}.u64(v);
  return out;
}

bool decode_meta_u32(std::string_view in, uint32_t& v) {
  byte_reader r{in};
  v = r.u32();
  return r.finish() == decode_status::ok;
}

bool decode_meta_u64(std::string_view in, uint64_t& v) {
  byte_reader r{in};
  v = r.u64();
  return r.finish() == decode_status::ok;
}

} // namespace volley
