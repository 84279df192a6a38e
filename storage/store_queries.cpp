#include "storage/store_queries.hpp"

#include "protocol/dlq_entries.hpp"
#include "protocol/fields.hpp"
#include "protocol/ingress_line.hpp"
#include "protocol/json_text.hpp"
#include "time/timestamp.hpp"

#include <algorithm>
#include <map>

namespace volley {

namespace {

constexpr size_t dlq_page = 1000; // entries read per step of a whole-subscriber change

} // namespace

read_result<std::string> queue_answer(store& db, const std::vector<std::string>& configured) {
  auto pending = db.pending_subscribers();
  if (!pending)
    return read_result<std::string>::failure(pending.error());
  auto names = *pending;
  for (const auto& name : configured)
    if (std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string list = "[";
  for (const auto& name : names) {
    auto counts = db.count_pending_by_priority(name);
    if (!counts)
      return read_result<std::string>::failure(counts.error());
    const auto& c = *counts;
    fields f;
    f.text("subscriber", name)
      .boolean("configured", std::find(configured.begin(), configured.end(), name) != configured.end())
      .integer("pending", static_cast<int64_t>(c[0] + c[1] + c[2] + c[3]))
      .json("by_priority", json_integer_array(c));
    list += (list.size() > 1 ? "," : "") + f.json_object();
  }
  auto total = db.count_pending_total();
  auto dlq = db.count_dlq();
  if (!total || !dlq)
    return read_result<std::string>::failure(!total ? total.error() : dlq.error());
  fields out;
  out.boolean("ok", true)
    .integer("pending", static_cast<int64_t>(*total))
    .integer("dlq", static_cast<int64_t>(*dlq))
    .json("subscribers", list + "]");
  return out.json_object() + "\n";
}

read_result<std::string> dlq_list_answer(store& db, const control_request& req) {
  std::optional<std::string> subscriber;
  if (!req.subscriber.empty())
    subscriber = req.subscriber;
  auto entries = db.list_dlq(subscriber, req.after, req.limit + 1);
  if (!entries)
    return read_result<std::string>::failure(entries.error());
  bool more = entries->size() > req.limit;
  if (more)
    entries->resize(req.limit);
  return dlq_list_line(*entries, more);
}

namespace {

fields attempt_fields(const logged_attempt& a) {
  fields f;
  f.text("at", format_rfc3339_ms(a.at_ms))
    .integer("attempt", a.attempt)
    .integer("status", a.status)
    .text("error", a.error)
    .number("latency_ms", a.latency_ms)
    .text("outcome", to_string(a.outcome));
  return f;
}

// How a delivery stands, from its latest log entry.
const char* delivery_outcome(const logged_attempt& last) {
  switch (last.outcome) {
    case attempt_outcome::delivered:
      return "delivered";
    case attempt_outcome::dead_lettered:
      return "dead_lettered";
    case attempt_outcome::disabled:
      return "disabled";
    case attempt_outcome::retrying:
    case attempt_outcome::replay:
      return "pending";
  }
  return "pending";
}

} // namespace

read_result<std::string> event_log_answer(store& db, const std::string& event_id) {
  auto log = db.read_event_log(event_id);
  if (!log)
    return read_result<std::string>::failure(log.error());
  if (!*log)
    return error_line("no event \"" + event_id +
                      "\" in the delivery log (not accepted with deliveries, or older than "
                      "log.retention_hours)");
  const auto& l = **log;
  // Per subscriber, in the order they were first attempted.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const logged_attempt*>> by_subscriber;
  for (const auto& a : l.attempts) {
    if (by_subscriber.count(a.subscriber) == 0)
      order.push_back(a.subscriber);
    by_subscriber[a.subscriber].push_back(&a);
  }
  std::string deliveries = "[";
  for (const auto& name : order) {
    const auto& attempts = by_subscriber[name];
    std::string list = "[";
    bool replayed = false; // attempts after a replay marker belong to the replay
    for (const auto* a : attempts) {
      replayed = replayed || a->outcome == attempt_outcome::replay;
      auto f = attempt_fields(*a);
      f.boolean("replay", replayed);
      list += (list.size() > 1 ? "," : "") + f.json_object();
    }
    fields d;
    d.text("subscriber", name)
      .text("outcome", delivery_outcome(*attempts.back()))
      .json("attempts", list + "]");
    deliveries += (deliveries.size() > 1 ? "," : "") + d.json_object();
  }
  fields out;
  out.boolean("ok", true).text("id", l.event.id).text("type", l.event.type);
  out.text("created", l.event.created_ms > 0 ? format_rfc3339_ms(l.event.created_ms) : "");
  out.json("deliveries", deliveries + "]");
  return out.json_object() + "\n";
}

read_result<std::string> attempts_answer(store& db, const control_request& req, int64_t now_ms) {
  attempt_query q;
  q.subscriber = req.subscriber;
  q.failed_only = req.failed_only;
  q.since_ms = req.within_ms > 0 ? now_ms - req.within_ms : 0;
  q.limit = req.limit;
  auto attempts = db.list_attempts(q);
  if (!attempts)
    return read_result<std::string>::failure(attempts.error());
  std::string list = "[";
  for (const auto& a : *attempts) {
    auto f = attempt_fields(a);
    f.text("event_id", a.event_id).text("subscriber", a.subscriber);
    list += (list.size() > 1 ? "," : "") + f.json_object();
  }
  fields out;
  out.boolean("ok", true).json("attempts", list + "]");
  return out.json_object() + "\n";
}

dlq_change change_dlq(store& db, const control_request& req) {
  dlq_change out;
  const bool retry = req.op == control_op::dlq_retry;
  const std::string op = req.name();
  write_batch batch;
  auto& keys = retry ? batch.dlq_requeued : batch.dlq_deleted;
  if (req.key) {
    keys.push_back(*req.key);
  } else {
    // Every entry of one subscriber, page by page.
    std::optional<delivery_key> after;
    for (;;) {
      auto entries = db.list_dlq(req.subscriber, after, dlq_page);
      if (!entries) {
        out.answer = error_line(op + " failed: " + entries.error());
        return out;
      }
      for (auto& e : *entries)
        keys.push_back(e.key);
      if (entries->size() < dlq_page)
        break;
      after = entries->back().key;
    }
  }
  auto result = db.commit(batch);
  if (result.status != write_status::ok) {
    out.answer = error_line(op + " failed: " + result.error);
    return out;
  }
  // What actually changed. A named entry that is not there is an error
  // (HTTP answers it 404), so that a mistyped key does not pass for done.
  auto count = retry ? result.requeued.size() : result.dlq_removed;
  if (req.key && count == 0) {
    out.answer = error_line(no_dlq_entry_error(*req.key));
    return out;
  }
  for (auto& p : result.requeued) {
    auto name = p.delivery.key.subscriber;
    out.requeued[name].push_back(delivery_from_disk(std::move(p)));
  }
  out.answer = "{\"ok\":true,\"count\":" + std::to_string(count) + "}\n";
  return out;
}

} // namespace volley
