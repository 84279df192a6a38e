#include "health/monitor_snapshot.hpp"

namespace volley {

namespace {

bool u64(const rapidjson::Value& v, const char* name, uint64_t& out) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd())
    return true; // absent: zero
  if (!it->value.IsUint64())
    return false;
  out = it->value.GetUint64();
  return true;
}

std::string text(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString()
           ? std::string{it->value.GetString(), it->value.GetStringLength()}
           : std::string{};
}

} // namespace

void write_counts(json_writer& w, const delivery_counts& c) {
  w.StartObject();
  w.Key("a"), w.Uint64(c.attempts);
  w.Key("s"), w.Uint64(c.successes);
  w.Key("f"), w.Uint64(c.failures);
  w.Key("d"), w.Uint64(c.delivered);
  w.Key("x"), w.Uint64(c.dead_lettered);
  w.Key("w"), w.Uint64(c.slow);
  w.Key("da"), w.Uint64(c.delivered_attempts);
  w.Key("hn"), w.Uint64(c.latency.count());
  w.Key("hs"), w.Double(c.latency.sum_ms());
  w.Key("h");
  w.StartArray(); // [bucket, count] of the buckets that hold any
  for (size_t i = 0; i < latency_histogram::bucket_count; ++i)
    if (auto n = c.latency.bucket(i)) {
      w.StartArray();
      w.Uint64(i);
      w.Uint(n);
      w.EndArray();
    }
  w.EndArray();
  w.Key("o");
  w.StartObject();
  for (const auto& [key, n] : c.outcomes) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.Uint64(n);
  }
  w.EndObject();
  w.EndObject();
}

bool read_counts(const rapidjson::Value& v, delivery_counts& out) {
  if (!v.IsObject())
    return false;
  uint64_t count = 0;
  if (!u64(v, "a", out.attempts) || !u64(v, "s", out.successes) || !u64(v, "f", out.failures) ||
      !u64(v, "d", out.delivered) || !u64(v, "x", out.dead_lettered) || !u64(v, "w", out.slow) ||
      !u64(v, "da", out.delivered_attempts) || !u64(v, "hn", count))
    return false;
  double sum = 0;
  if (auto it = v.FindMember("hs"); it != v.MemberEnd() && it->value.IsNumber())
    sum = it->value.GetDouble();
  out.latency.restore_totals(count, sum);
  if (auto it = v.FindMember("h"); it != v.MemberEnd() && it->value.IsArray())
    for (const auto& b : it->value.GetArray()) {
      if (!b.IsArray() || b.Size() != 2 || !b[0].IsUint() || !b[1].IsUint() ||
          b[0].GetUint() >= latency_histogram::bucket_count)
        return false;
      out.latency.restore_bucket(b[0].GetUint(), b[1].GetUint());
    }
  if (auto it = v.FindMember("o"); it != v.MemberEnd() && it->value.IsObject())
    for (const auto& m : it->value.GetObject())
      if (m.value.IsUint64())
        out.outcomes[std::string{m.name.GetString(), m.name.GetStringLength()}] = m.value.GetUint64();
  return true;
}

void write_window(json_writer& w, const rolling_window& window) {
  w.StartObject();
  w.Key("slot_ms"), w.Uint64(window.slot_ms());
  w.Key("slots");
  w.StartArray();
  for (const auto& [index, counts] : window.filled_slots()) {
    w.StartArray();
    w.Int64(index);
    write_counts(w, counts);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
}

bool read_window(const rapidjson::Value& v, rolling_window& window) {
  if (!v.IsObject())
    return false;
  uint64_t slot_ms = 0;
  if (!u64(v, "slot_ms", slot_ms))
    return false;
  if (slot_ms != window.slot_ms())
    return true; // another width (a changed setting): nothing to put back
  auto it = v.FindMember("slots");
  if (it == v.MemberEnd() || !it->value.IsArray())
    return false;
  for (const auto& s : it->value.GetArray()) {
    delivery_counts c;
    if (!s.IsArray() || s.Size() != 2 || !s[0].IsInt64() || !read_counts(s[1], c))
      return false;
    window.restore(s[0].GetInt64(), c);
  }
  return true;
}

void write_failure(json_writer& w, const failure_record& f) {
  w.StartObject();
  w.Key("at"), w.Int64(f.at_ms);
  w.Key("subscriber"), w.String(f.subscriber.c_str(), static_cast<rapidjson::SizeType>(f.subscriber.size()));
  w.Key("event_id"), w.String(f.event_id.c_str(), static_cast<rapidjson::SizeType>(f.event_id.size()));
  w.Key("type"), w.String(f.type.c_str(), static_cast<rapidjson::SizeType>(f.type.size()));
  w.Key("attempt"), w.Uint(f.attempt);
  w.Key("status"), w.Int(f.status);
  w.Key("error"), w.String(f.error.c_str(), static_cast<rapidjson::SizeType>(f.error.size()));
  w.EndObject();
}

bool read_failure(const rapidjson::Value& v, failure_record& out) {
  if (!v.IsObject() || !v.HasMember("at") || !v["at"].IsInt64())
    return false;
  out.at_ms = v["at"].GetInt64();
  out.subscriber = text(v, "subscriber");
  out.event_id = text(v, "event_id");
  out.type = text(v, "type");
  out.attempt = v.HasMember("attempt") && v["attempt"].IsUint() ? v["attempt"].GetUint() : 0;
  out.status = v.HasMember("status") && v["status"].IsInt() ? v["status"].GetInt() : 0;
  out.error = text(v, "error");
  return true;
}

} // namespace volley
