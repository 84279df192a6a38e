#include "storage/store_queries.hpp"

#include "protocol/dlq_entries.hpp"
#include "protocol/fields.hpp"
#include "protocol/ingress_line.hpp"
#include "protocol/json_text.hpp"

#include <algorithm>

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
  // What actually changed: a key that was not there counts 0.
  auto count = retry ? result.requeued.size() : result.dlq_removed;
  for (auto& p : result.requeued) {
    auto name = p.delivery.key.subscriber;
    out.requeued[name].push_back(delivery_from_disk(std::move(p)));
  }
  out.answer = "{\"ok\":true,\"count\":" + std::to_string(count) + "}\n";
  return out;
}

} // namespace volley
