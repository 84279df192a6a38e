#pragma once
// What cluster mode adds to a node: the Kafka clients (events producer,
// changelog writer, group consumer, restore reader), the partitions' stores,
// and the answers to the consumer's rebalances. Assigned partitions are
// restored from their changelog before they are fetched; revoked ones are
// drained (everything handed over committed, in the changelog, acked),
// their offsets committed, and their state dropped.
//
// The rebalance work runs on the consumer's thread, which may block: it
// talks to the actors with blocking requests from there, never from a CAF
// thread.

#include "cluster/changelog_writer.hpp"
#include "cluster/event_producer.hpp"
#include "cluster/group_consumer.hpp"
#include "cluster/offset_tracker.hpp"
#include "config/config.hpp"
#include "storage/partitioned_store.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace volley {

class cluster_runtime : public partition_listener {
public:
  // `node_store`: the node's own store (its delivery log).
  cluster_runtime(const config& cfg, caf::actor_system& sys, std::shared_ptr<store> node_store);
  ~cluster_runtime() override;

  // Creates the clients and, when the brokers answer, checks that both
  // topics have the same partition count. "" or why the node cannot start.
  std::string prepare();

  const std::string& node_name() const { return node_; }
  std::shared_ptr<partitioned_store> partitions() const { return partitions_; }
  change_log* changelog() const { return changelog_.get(); }
  std::shared_ptr<event_producer> producer() const { return producer_; }
  std::shared_ptr<offset_tracker> offsets() const { return offsets_; }
  std::shared_ptr<const group_consumer> consumer() const { return consumer_; }

  // Joins the group once the topics are checked (at once, or when the
  // brokers come back); records go to `event_consumer`, partitions to and
  // from `persistence`.
  void start(caf::actor persistence, caf::actor event_consumer);
  // Leaves the group: every partition revoked, drained and committed.
  void stop();

  // A text answer of the `cluster` op: the group's members and their
  // partitions as this node sees them. Blocks up to a few seconds.
  std::string describe_group();

  // partition_listener, on the consumer's thread
  void records(std::vector<kafka_record>&& batch) override;
  void assigned(const std::vector<int32_t>& partitions) override;
  void revoked(const std::vector<int32_t>& partitions, bool lost) override;
  void rewound(int32_t partition) override;

private:
  // "" when both topics have the same count; else why not. `reachable`
  // false when the brokers did not answer.
  std::string check_topics(bool& reachable);
  bool restore(int32_t partition, caf::scoped_actor& self);

  cluster_config cluster_;
  std::string node_;
  caf::actor_system& sys_;
  std::shared_ptr<partitioned_store> partitions_;
  std::shared_ptr<offset_tracker> offsets_ = std::make_shared<offset_tracker>();
  std::shared_ptr<event_producer> producer_;
  std::unique_ptr<changelog_writer> changelog_;
  std::shared_ptr<group_consumer> consumer_;
  kafka_handle reader_; // restores, from the consumer's thread only
  caf::actor persistence_, event_consumer_;
  bool topics_checked_ = false;
  std::atomic<bool> stopping_{false};
  std::thread starter_; // waits for the brokers when they were away at start
};

} // namespace volley
