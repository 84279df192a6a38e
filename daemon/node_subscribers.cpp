// The node's API subscribers: loaded at start, changed at run time the way
// a reload changes the file's (daemon/node.cpp).

#include "daemon/node.hpp"

#include "actors/persistence.hpp"
#include "logging/logger.hpp"
#include "messages/messages.hpp"
#include "protocol/fields.hpp"

#include <chrono>

namespace volley {

namespace {

constexpr auto commit_timeout = std::chrono::seconds(30);

subscriber_answer unavailable(const std::string& why) {
  fields body;
  body.text("error", why);
  return {subscriber_answer::kind::unavailable, body.json_object()};
}

} // namespace

void node::load_runtime_subscribers() {
  auto stored = db_->subscriber_definitions();
  if (!stored) {
    log_error("storage: cannot read the subscribers added over the HTTP API: " + stored.error() +
              "; they do not run until a restart reads them");
    return;
  }
  for (const auto& problem : runtime_.load(*stored, cfg_.defaults))
    log_error(problem + " (DELETE /v1/subscribers/<name> removes it, PUT replaces it)");
  for (const auto& name : runtime_.shadowed(cfg_.subscribers))
    log_warn("subscriber=" + name +
             " of the config file hides the API subscriber of that name, "
             "which stays stored but does not run");
}

void node::stop_subscriber(const std::string& name, const caf::actor& actor) {
  subscribers_->remove(name);
  caf::anon_send(monitor_, forget_atom::value, name);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

subscriber_answer node::change_subscribers(const subscriber_change& change) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopped_)
    return unavailable("volleyd is shutting down; send it again after the restart");
  if (cluster_ && change.what != subscriber_change::kind::list &&
      change.what != subscriber_change::kind::get) {
    // Every node of a cluster must route and deliver alike: its subscribers
    // come from the one config file all nodes load.
    fields body;
    body.text("error", "in cluster mode subscribers come from the config file every node loads; "
                       "change the file on every node and reload them");
    return {subscriber_answer::kind::conflict, body.json_object()};
  }
  auto plan = runtime_.decide(change, cfg_.subscribers, cfg_.defaults, wall_clock()());
  if (!plan.store)
    return std::move(plan.answer);

  // On disk before anything runs or anyone hears of it: an answered change
  // outlasts kill -9.
  write_batch batch;
  batch.definitions.push_back(*plan.store);
  std::string error;
  caf::scoped_actor self{sys_};
  self->request(persistence_, commit_timeout, commit_atom::value, std::move(batch))
    .receive([](bool) {}, [&](caf::error& err) { error = sys_.render(err); });
  if (!error.empty()) {
    log_error("api: subscriber=" + plan.store->name + " not changed: storage: " + error);
    return unavailable("the change is not on disk, nothing changed: " + error);
  }
  runtime_.apply(plan);

  const auto& name = plan.store->name;
  switch (plan.act) {
    case runtime_subscribers::plan::action::start:
      spawn_subscriber(plan.config, recorded_disables());
      log_info("api: subscriber=" + name + " added");
      break;
    case runtime_subscribers::plan::action::reconfigure:
      if (auto actor = subscribers_->find(name))
        caf::anon_send(actor, reconfig_atom::value, plan.config);
      log_info("api: subscriber=" + name + " replaced");
      break;
    case runtime_subscribers::plan::action::stop:
      if (auto actor = subscribers_->find(name))
        stop_subscriber(name, actor);
      log_info("api: subscriber=" + name + " deleted (its pending deliveries stay on disk)");
      break;
    case runtime_subscribers::plan::action::none:
      break;
  }
  caf::anon_send(router_, routes_atom::value,
                 routing_table{runtime_.merged(cfg_.subscribers), cfg_.priority_rules});
  return std::move(plan.answer);
}

} // namespace volley
