#include "daemon/node.hpp"

#include "actors/event_consumer.hpp"
#include "actors/ingress.hpp"
#include "actors/kafka_ingest.hpp"
#include "actors/monitor.hpp"
#include "actors/persistence.hpp"
#include "actors/router.hpp"
#include "actors/store_reader.hpp"
#include "actors/subscriber.hpp"
#include "api/http_server.hpp"
#include "config/config_loader.hpp"
#include "logging/logger.hpp"
#include "protocol/fields.hpp"
#include "protocol/json_text.hpp"

#include <chrono>
#include <map>
#include <random>

namespace volley {

namespace {

constexpr auto drain_timeout = std::chrono::seconds(10);

http_engine_options engine_options(const config& cfg) {
  http_engine_options o;
  o.allow_private_networks = cfg.allow_private_networks;
  o.max_concurrent = cfg.http.max_concurrent;
  o.threads = cfg.http.threads;
  return o;
}

// Answers the node's own ops (reload, cluster) and the API's subscriber
// changes off the scheduler: reading the file, asking the brokers and
// waiting for a commit block.
caf::behavior node_actor(caf::event_based_actor*, node* n) {
  return {
    [=](control_atom, const control_request& req) {
      return req.op == control_op::cluster ? n->describe_cluster() : n->reload();
    },
    [=](define_atom, const subscriber_change& change) { return n->change_subscribers(change); },
  };
}

} // namespace

node::node(config cfg, std::string config_path, std::shared_ptr<store> db)
  : cfg_(std::move(cfg)), config_path_(std::move(config_path)), db_(std::move(db)),
    memory_(std::make_shared<memory_budget>(cfg_.queue.memory_mb << 20)), engine_(engine_options(cfg_)),
    sys_cfg_(cfg_.scheduler), sys_(sys_cfg_) {}

node::~node() { shutdown(); }

std::vector<subscriber_status> node::recorded_disables() {
  std::vector<subscriber_status> out;
  caf::scoped_actor self{sys_};
  self->request(persistence_, caf::infinite, disabled_atom::value)
    .receive([&](std::vector<subscriber_status>& list) { out = std::move(list); },
             [&](caf::error& err) {
               log_error("storage: cannot tell which subscribers are disabled: " + sys_.render(err));
             });
  return out;
}

caf::actor node::spawn_subscriber(const subscriber_config& s,
                                  const std::vector<subscriber_status>& disabled) {
  subscriber_deps deps;
  deps.transport = &engine_;
  deps.persistence = persistence_;
  deps.monitor = monitor_;
  deps.memory_limit = cfg_.queue.memory_limit;
  deps.budget = memory_;
  deps.slow_ms = cfg_.monitor.slow_ms;
  deps.seed = std::random_device{}();
  deps.single_store = !cluster_;
  deps.log_attempts = cfg_.log.retention_hours > 0;
  for (const auto& d : disabled)
    if (d.subscriber == s.name)
      deps.recorded_disable = d;
  auto actor = sys_.spawn(subscriber, s, deps);
  subscribers_->add(s.name, actor);
  return actor;
}

bool node::start() {
  load_runtime_subscribers();
  const auto running = runtime_.merged(cfg_.subscribers);
  std::vector<std::string> names;
  for (const auto& s : running)
    names.push_back(s.name);
  std::string statistics; // what the last run's monitor left on disk
  if (cfg_.monitor.snapshot_interval_ms > 0) {
    if (auto stored = db_->monitor_snapshot(); !stored)
      log_error("storage: cannot read the monitor's statistics: " + stored.error() + "; counting from zero");
    else if (*stored)
      statistics = std::move(**stored);
  }
  monitor_ = sys_.spawn(monitor, cfg_.monitor, names, wall_clock(), std::move(statistics), memory_);
  persistence_options writes;
  writes.batch_max = cfg_.storage.batch_max;
  writes.batch_interval = std::chrono::milliseconds{cfg_.storage.batch_interval_ms};
  writes.outcome_interval = std::chrono::milliseconds{cfg_.storage.outcome_interval_ms};
  writes.dedup_window_ms = static_cast<int64_t>(cfg_.queue.dedup_window_s) * 1000;
  writes.dedup_max_ids = cfg_.queue.dedup_max_ids;
  writes.log.retention_ms = static_cast<int64_t>(cfg_.log.retention_hours) * 3600 * 1000;
  writes.log.max_bytes = cfg_.log.max_mb << 20;
  writes.snapshot_interval = std::chrono::milliseconds{cfg_.monitor.snapshot_interval_ms};
  persistence_deps stored;
  stored.db = db_;
  stored.subscribers = subscribers_;
  stored.monitor = monitor_;
  if (cfg_.cluster) {
    cluster_ = std::make_unique<cluster_runtime>(cfg_, sys_, db_);
    if (auto error = cluster_->prepare(); !error.empty()) {
      log_error("cluster: " + error);
      return false;
    }
    stored.db = cluster_->partitions();
    stored.partitions = cluster_->partitions();
    stored.changelog = cluster_->changelog();
  }
  persistence_ = sys_.spawn<caf::detached>(persistence, stored, writes);
  store_reader_ = sys_.spawn<caf::detached>(store_reader, stored.db, subscribers_);
  routing_table routes{running, cfg_.priority_rules};
  caf::actor ingest; // where the ingress sends events
  if (cluster_) {
    event_consumer_deps consumed;
    consumed.persistence = persistence_;
    consumed.monitor = monitor_;
    consumed.offsets = cluster_->offsets();
    consumed.node = cluster_->node_name();
    consumed.consumer = cluster_->consumer();
    event_consumer_ = sys_.spawn(event_consumer, routes, consumed);
    kafka_ingest_ = sys_.spawn(kafka_ingest, cluster_->producer());
    ingest = kafka_ingest_;
  } else {
    router_ = sys_.spawn(router, routes, persistence_);
    ingest = router_;
  }
  auto disabled = recorded_disables();
  for (const auto& s : running)
    spawn_subscriber(s, disabled);
  control_ = sys_.spawn<caf::detached>(node_actor, this);
  if (cluster_)
    cluster_->start(persistence_, event_consumer_);
  ingress_deps ingress{
    cfg_.ingress, ingest, {monitor_, store_reader_, persistence_, control_, subscribers_}, wall_clock()};
  acceptor_ = sys_.middleman().spawn_broker(ingress_acceptor, ingress);

  caf::scoped_actor self{sys_};
  bool listening = false;
  self->request(acceptor_, std::chrono::seconds(10), start_atom::value)
    .receive(
      [&](uint16_t port) {
        listening = true;
        log_info("volleyd " VOLLEY_VERSION " listening on " + cfg_.ingress.host + ":" + std::to_string(port) +
                 " subscribers=" + std::to_string(running.size()) + " storage=" + cfg_.storage.path);
      },
      [&](caf::error& err) { log_error("ingress: " + sys_.render(err)); });
  return listening && start_api(ingress.router, ingress.control);
}

std::string node::describe_cluster() {
  if (!cluster_)
    return error_line("this node is not in cluster mode (no \"cluster\" key in its config)");
  return cluster_->describe_group();
}

std::string node::reload() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopped_)
    return error_line("shutting down");
  auto result = load_config_file(config_path_);
  if (!result.errors.empty()) {
    auto text = format_config_errors(result.errors);
    log_error("reload refused, the running config stays:\n" + text);
    return error_line("reload refused: " + text);
  }
  auto next = std::move(*result.value);
  if (next.ingress.host != cfg_.ingress.host || next.ingress.port != cfg_.ingress.port ||
      next.storage.path != cfg_.storage.path || next.allow_private_networks != cfg_.allow_private_networks ||
      next.queue.dedup_window_s != cfg_.queue.dedup_window_s ||
      next.queue.dedup_max_ids != cfg_.queue.dedup_max_ids || next.api != cfg_.api)
    log_warn("reload: ingress, api, storage, queue.dedup_* and allow_private_networks changes apply "
             "after a restart");
  // What runs now, to tell a changed subscriber from one the reload leaves as it is.
  std::map<std::string, subscriber_config> was;
  for (auto& s : runtime_.merged(cfg_.subscribers))
    was.emplace(s.name, std::move(s));
  for (const auto& problem : runtime_.rebase(next.defaults))
    log_warn("reload: " + problem);
  for (const auto& name : runtime_.shadowed(next.subscribers))
    log_warn("reload: subscriber=" + name + " of the config file hides the API subscriber of that name");
  const auto running = runtime_.merged(next.subscribers); // the API's subscribers stay

  std::vector<std::string> added, removed, updated, unchanged;
  std::map<std::string, const subscriber_config*> wanted;
  for (const auto& s : running)
    wanted[s.name] = &s;
  for (auto& [name, actor] : subscribers_->all()) {
    if (wanted.count(name))
      continue;
    // Its pending deliveries stay on disk; a later config may bring it back.
    stop_subscriber(name, actor);
    removed.push_back(name);
  }
  cfg_.queue.memory_limit = next.queue.memory_limit;
  cfg_.queue.memory_mb = next.queue.memory_mb;
  memory_->set_limit(cfg_.queue.memory_mb << 20);
  std::vector<subscriber_status> disabled;
  bool disabled_read = false;
  for (const auto& s : running) {
    if (auto actor = subscribers_->find(s.name)) {
      // Unchanged ones too: the reload's warnings (no secret, tls_insecure) come from there.
      caf::anon_send(actor, reconfig_atom::value, s);
      auto before = was.find(s.name);
      (before != was.end() && before->second == s ? unchanged : updated).push_back(s.name);
      continue;
    }
    if (!disabled_read) { // a disable recorded during this run counts too
      disabled = recorded_disables();
      disabled_read = true;
    }
    spawn_subscriber(s, disabled);
    added.push_back(s.name);
  }
  caf::anon_send(cluster_ ? event_consumer_ : router_, routes_atom::value,
                 routing_table{running, next.priority_rules});
  auto ingress = cfg_.ingress;
  auto api = cfg_.api;
  auto storage = cfg_.storage;
  auto allow_private = cfg_.allow_private_networks;
  auto dedup_window_s = cfg_.queue.dedup_window_s;
  auto dedup_max_ids = cfg_.queue.dedup_max_ids;
  cfg_ = std::move(next);
  cfg_.ingress = ingress; // what needs a restart keeps its running value
  cfg_.api = api;
  cfg_.storage = storage;
  cfg_.allow_private_networks = allow_private;
  cfg_.queue.dedup_window_s = dedup_window_s;
  cfg_.queue.dedup_max_ids = dedup_max_ids;
  log_info("reloaded " + config_path_ + ": added=" + std::to_string(added.size()) +
           " removed=" + std::to_string(removed.size()) + " updated=" + std::to_string(updated.size()) +
           " unchanged=" + std::to_string(unchanged.size()) +
           (removed.empty() ? "" : " (removed subscribers' pending deliveries stay on disk)"));
  fields answer;
  answer.boolean("ok", true)
    .json("added", json_string_array(added))
    .json("removed", json_string_array(removed))
    .json("updated", json_string_array(updated))
    .json("unchanged", json_string_array(unchanged));
  return answer.json_object() + "\n";
}

void node::shutdown() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopped_)
    return;
  stopped_ = true;
  caf::scoped_actor self{sys_};
  auto ignore = [](caf::error&) {};
  if (acceptor_)
    self->request(acceptor_, std::chrono::seconds(5), drain_atom::value).receive([](bool) {}, ignore);
  stop_api();
  // Cluster mode: leave the group; every partition is drained, committed
  // and handed over before the subscribers stop.
  if (cluster_)
    cluster_->stop();
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  auto running = subscribers_->all();
  for (auto& [name, actor] : running) {
    auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    self->request(actor, std::max(left, std::chrono::milliseconds(1)), drain_atom::value)
      .receive([](bool) {},
               [&, n = name](caf::error&) {
                 log_warn("shutdown: subscriber=" + n +
                          " still had requests in flight; they stay pending "
                          "and are retried after a restart");
               });
  }
  engine_.stop();
  // The statistics as they stand now, committed with the last writes.
  if (persistence_ && monitor_ && cfg_.monitor.snapshot_interval_ms > 0)
    self->request(monitor_, std::chrono::seconds(5), snapshot_atom::value)
      .receive(
        [&](std::string& text) {
          write_batch b;
          b.monitor_snapshot = std::move(text);
          self->send(persistence_, write_atom::value, std::move(b));
        },
        ignore);
  if (persistence_)
    self->request(persistence_, std::chrono::seconds(30), drain_atom::value)
      .receive([](bool) {},
               [&](caf::error& err) { log_error("shutdown: final flush failed: " + sys_.render(err)); });
  if (acceptor_)
    self->request(acceptor_, std::chrono::seconds(5), close_atom::value).receive([](bool) {}, ignore);
  for (auto& [name, actor] : running)
    self->send_exit(actor, caf::exit_reason::user_shutdown);
  for (auto& a : {acceptor_, api_bridge_, control_, router_, kafka_ingest_, event_consumer_, store_reader_,
                  persistence_, monitor_})
    if (a)
      self->send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace volley
