#pragma once
// A running Volley node: the actor system, the HTTP engine and every actor,
// started from one config and re-configured in place by reload().

#include "actors/control_plane.hpp"
#include "actors/subscriber_registry.hpp"
#include "config/config.hpp"
#include "config/runtime_subscribers.hpp"
#include "control/subscriber_change.hpp"
#include "daemon/cluster_runtime.hpp"
#include "delivery/memory_budget.hpp"
#include "http/http_engine.hpp"
#include "storage/store.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace volley {

class http_server;

class node {
public:
  node(config cfg, std::string config_path, std::shared_ptr<store> db);
  ~node();

  // Spawns the actors and opens the ingress; false (logged) when it cannot listen.
  bool start();

  // Re-reads the config file and applies it: new subscribers start, removed
  // ones stop (their deliveries stay on disk), changed ones take their new
  // settings without losing queued work. An invalid file changes nothing.
  // Returns the answer line for the `reload` op. Thread-safe.
  std::string reload();

  // A read or change of the HTTP API's subscribers; a change is answered
  // once it is on disk and the subscriber started, changed or stopped as a
  // reload would. Thread-safe; blocks (the node's own actor calls it).
  subscriber_answer change_subscribers(const subscriber_change& change);

  // Stops accepting, lets in-flight requests finish (bounded), commits.
  void shutdown();

  // The answer of the `cluster` op: the group as this node sees it.
  std::string describe_cluster();

private:
  // CAF's default work-stealing workers poll and sleep for 50 us when idle,
  // at least four of them: on a small machine that steals the cores the
  // HTTP engine and the LMDB thread need. Shared-queue workers block instead.
  struct system_config : caf::actor_system_config {
    explicit system_config(const scheduler_config& s) {
      load<caf::io::middleman>();
      set("scheduler.policy", s.policy == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
      set("scheduler.max-threads", static_cast<size_t>(s.threads));
    }
  };

  // Starts a subscriber actor, disabled if `disabled` records it so.
  caf::actor spawn_subscriber(const subscriber_config& s, const std::vector<subscriber_status>& disabled);
  // Which subscribers are disabled on record, as persistence knows it now.
  std::vector<subscriber_status> recorded_disables();
  // The API's subscribers as stored, validated (node_subscribers.cpp).
  void load_runtime_subscribers();
  // Stops a running subscriber; its deliveries stay on disk.
  void stop_subscriber(const std::string& name, const caf::actor& actor);
  // The HTTP API, when configured: its bridge actor and server, with events
  // going where the TCP ingress sends them (node_api.cpp).
  bool start_api(const caf::actor& events, const control_plane& control);
  void stop_api();

  std::mutex mutex_; // reload() vs. shutdown()
  config cfg_;
  std::string config_path_;
  std::shared_ptr<store> db_;
  // Bytes of deliveries in memory, shared by every subscriber (queue.memory_mb).
  std::shared_ptr<memory_budget> memory_;
  http_engine engine_;
  system_config sys_cfg_;
  caf::actor_system sys_;
  caf::actor monitor_, persistence_, store_reader_, router_, acceptor_, control_;
  // Cluster mode: Kafka clients and partitions; events in through
  // kafka_ingest, out of the group through event_consumer.
  std::unique_ptr<cluster_runtime> cluster_;
  caf::actor kafka_ingest_, event_consumer_;
  std::shared_ptr<subscriber_registry> subscribers_ = std::make_shared<subscriber_registry>();
  runtime_subscribers runtime_; // the HTTP API's subscribers
  caf::actor api_bridge_;
  std::unique_ptr<http_server> api_;
  bool stopped_ = false;
};

} // namespace volley
