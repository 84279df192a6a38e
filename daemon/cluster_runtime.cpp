#include "daemon/cluster_runtime.hpp"

#include "cluster/group_assignment.hpp"
#include "cluster/partition_reader.hpp"
#include "cluster/topic_partitions.hpp"
#include "logging/logger.hpp"
#include "messages/messages.hpp"
#include "protocol/fields.hpp"
#include "protocol/json_text.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>

namespace volley {

namespace {

using namespace std::chrono_literals;

constexpr auto topics_timeout = 10s;
constexpr auto restore_timeout = 240s; // under max.poll.interval.ms: the group keeps us
constexpr auto drain_timeout = 30s;
constexpr size_t restore_chunk = 5000; // changes per restore message
constexpr auto actor_timeout = std::chrono::minutes(5);

// A node that cannot go on (a partition it cannot restore, topics that do
// not match) stops the way an operator stops it: its partitions are revoked
// and committed, another node takes them.
void stop_node(const std::string& why) {
  log_error("cluster: " + why + "; stopping this node so another takes its partitions");
  std::raise(SIGTERM);
}

} // namespace

cluster_runtime::cluster_runtime(const config& cfg, caf::actor_system& sys, std::shared_ptr<store> node_store)
  : cluster_(*cfg.cluster), node_(cfg.cluster->node.empty() ? default_node_name() : cfg.cluster->node),
    sys_(sys), partitions_(std::make_shared<partitioned_store>(
                 (std::filesystem::path(cfg.storage.path) / "partitions").string(), cfg.storage.map_size_mb,
                 std::move(node_store))) {
  cluster_.node = node_;
}

cluster_runtime::~cluster_runtime() { stop(); }

std::string cluster_runtime::prepare() {
  // Partitions are restored from their changelog when assigned: whatever an
  // earlier run left on this disk is stale.
  if (auto error = partitions_->remove_leftovers(); !error.empty())
    return error;
  auto make = [&](kafka_role role, kafka_conf_ptr& out) -> std::string {
    auto conf = make_kafka_conf(role, cluster_);
    if (!conf.errors.empty()) {
      std::string text;
      for (const auto& e : conf.errors)
        text += (text.empty() ? "" : "; ") + to_string(e);
      return text;
    }
    out = std::move(conf.conf);
    return "";
  };
  kafka_conf_ptr conf;
  std::string error;
  if (!(error = make(kafka_role::events_producer, conf)).empty())
    return error;
  producer_ = std::make_shared<event_producer>(std::move(conf), cluster_.events_topic, error);
  if (!error.empty())
    return error;
  if (!(error = make(kafka_role::changelog_producer, conf)).empty())
    return error;
  changelog_ = std::make_unique<changelog_writer>(std::move(conf), cluster_.changelog_topic, error);
  if (!error.empty())
    return error;
  if (!(error = make(kafka_role::restore_reader, conf)).empty())
    return error;
  char errstr[512];
  reader_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof(errstr)));
  if (!reader_)
    return std::string{"cannot create the restore reader: "} + errstr;
  conf.release();
  if (!(error = make(kafka_role::group_consumer, conf)).empty())
    return error;
  consumer_ = std::make_shared<group_consumer>(std::move(conf), cluster_.events_topic, *this, *offsets_,
                                               consumer_options{}, error);
  if (!error.empty())
    return error;
  bool reachable = false;
  error = check_topics(reachable);
  if (reachable && !error.empty())
    return error; // a mismatch: refuse to start
  if (!reachable)
    log_error("cluster: the brokers (" + cluster_.brokers + ") do not answer: " + error +
              "; events are refused until they do, and this node joins the group then");
  topics_checked_ = reachable;
  return "";
}

std::string cluster_runtime::check_topics(bool& reachable) {
  auto events = count_partitions(producer_->handle(), cluster_.events_topic, topics_timeout);
  auto changes = count_partitions(producer_->handle(), cluster_.changelog_topic, topics_timeout);
  reachable = true;
  for (const auto* c : {&events, &changes})
    if (!c->error.empty()) {
      // A topic the brokers do not know is an answer; silence is not.
      reachable = c->error.find("does not exist") != std::string::npos ||
                  c->error.find("not exist") != std::string::npos;
      return c->error;
    }
  if (events.count != changes.count)
    return "cluster.events_topic \"" + cluster_.events_topic + "\" has " + std::to_string(events.count) +
           " partitions but cluster.changelog_topic \"" + cluster_.changelog_topic + "\" has " +
           std::to_string(changes.count) +
           ": both must have the same count (each events partition's state lives in the changelog "
           "partition of the same number); recreate the changelog topic with " +
           std::to_string(events.count) + " partitions and cleanup.policy=compact";
  log_info("cluster: node " + node_ + " in group " + cluster_.group + ", " + cluster_.events_topic + " and " +
           cluster_.changelog_topic + " with " + std::to_string(events.count) + " partitions each");
  return "";
}

void cluster_runtime::start(caf::actor persistence, caf::actor event_consumer) {
  persistence_ = std::move(persistence);
  event_consumer_ = std::move(event_consumer);
  if (topics_checked_) {
    consumer_->start();
    return;
  }
  // The brokers were away: check again until they answer, then join.
  starter_ = std::thread{[this] {
    auto next_log = std::chrono::steady_clock::now() + 30s;
    while (!stopping_) {
      bool reachable = false;
      auto error = check_topics(reachable);
      if (reachable && error.empty()) {
        consumer_->start();
        return;
      }
      if (reachable) {
        stop_node(error);
        return;
      }
      if (std::chrono::steady_clock::now() >= next_log) {
        log_error("cluster: the brokers still do not answer: " + error);
        next_log = std::chrono::steady_clock::now() + 30s;
      }
      for (int i = 0; i < 20 && !stopping_; ++i)
        std::this_thread::sleep_for(100ms); // a retry interval on a thread of its own
    }
  }};
}

void cluster_runtime::stop() {
  stopping_ = true;
  if (starter_.joinable())
    starter_.join();
  if (consumer_)
    consumer_->stop(); // revokes, drains and commits every partition
}

void cluster_runtime::records(std::vector<kafka_record>&& batch) {
  caf::anon_send(event_consumer_, consumed_atom::value, std::move(batch));
}

void cluster_runtime::rewound(int32_t partition) {
  caf::anon_send(event_consumer_, resume_atom::value, static_cast<uint16_t>(partition));
}

bool cluster_runtime::restore(int32_t partition, caf::scoped_actor& self) {
  auto p = static_cast<uint16_t>(partition);
  auto started = std::chrono::steady_clock::now();
  bool ok = true;
  std::string failure;
  auto ask = [&](auto... xs) {
    self->request(persistence_, actor_timeout, xs...)
      .receive([](bool) {},
               [&](caf::error& err) {
                 ok = false;
                 failure = sys_.render(err);
               });
  };
  ask(adopt_atom::value, p);
  std::vector<mirrored_change> chunk;
  uint64_t changes = 0;
  auto read = read_partition(reader_.get(), cluster_.changelog_topic, partition, RD_KAFKA_OFFSET_BEGINNING,
                             restore_timeout, [&](const kafka_record& r) {
                               if (!ok)
                                 return;
                               chunk.push_back({p, r.key, r.value});
                               ++changes;
                               if (chunk.size() >= restore_chunk) {
                                 ask(restore_atom::value, p, std::move(chunk));
                                 chunk.clear();
                               }
                             });
  if (ok && !chunk.empty())
    ask(restore_atom::value, p, std::move(chunk));
  if (!read.error.empty()) {
    ok = false;
    failure = read.error;
  }
  if (!ok) {
    stop_node("cannot restore partition " + std::to_string(partition) + " from " + cluster_.changelog_topic +
              ": " + failure);
    return false;
  }
  int64_t applied = -1;
  self->request(persistence_, actor_timeout, ready_atom::value, p)
    .receive([&](int64_t offset) { applied = offset; }, [](caf::error&) {});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  log_info("cluster: partition " + std::to_string(partition) + " restored from " + std::to_string(changes) +
           " changelog records in " + std::to_string(ms.count()) + " ms (events applied up to offset " +
           std::to_string(applied) + ")");
  return true;
}

void cluster_runtime::assigned(const std::vector<int32_t>& partitions) {
  if (partitions.empty())
    return;
  caf::scoped_actor self{sys_};
  for (auto p : partitions)
    if (!restore(p, self))
      return;
}

void cluster_runtime::revoked(const std::vector<int32_t>& partitions, bool lost) {
  if (partitions.empty())
    return;
  caf::scoped_actor self{sys_};
  if (!lost) {
    // 1. Everything handed over reaches persistence and is committed.
    self->request(event_consumer_, actor_timeout, drain_atom::value).receive([](bool) {}, [](caf::error&) {});
    // 2. The changelog holds it; 3. its acks reach the offset tracker.
    changelog_->flush(drain_timeout);
    for (auto p : partitions)
      if (!offsets_->wait_drained(p, drain_timeout))
        log_warn("cluster: partition " + std::to_string(p) +
                 " left with events not yet applied; its next owner consumes them again");
  }
  // 4. Its state leaves memory and disk (the consumer commits after this).
  for (auto p : partitions)
    self->request(event_consumer_, actor_timeout, release_atom::value, static_cast<uint16_t>(p))
      .receive([](bool) {}, [](caf::error&) {});
  std::string list;
  for (auto p : partitions)
    list += (list.empty() ? "" : ",") + std::to_string(p);
  log_info("cluster: partitions " + list + (lost ? " lost" : " handed over"));
}

std::string cluster_runtime::describe_group() {
  fields out;
  out.boolean("ok", true).text("node", node_).text("group", cluster_.group);
  auto own = consumer_ ? consumer_->assignment() : std::vector<int32_t>{};
  out.json("partitions", json_integer_array(own));
  const rd_kafka_group_list* groups = nullptr;
  auto err = consumer_ ? rd_kafka_list_groups(consumer_->handle(), cluster_.group.c_str(), &groups, 5000)
                       : RD_KAFKA_RESP_ERR__STATE;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out.text("members_error", rd_kafka_err2str(err));
    return out.json_object() + "\n";
  }
  std::string members = "[";
  for (int g = 0; g < groups->group_cnt; ++g) {
    const auto& group = groups->groups[g];
    out.text("state", group.state ? group.state : "");
    for (int m = 0; m < group.member_cnt; ++m) {
      const auto& member = group.members[m];
      fields f;
      f.text("member", member.member_id ? member.member_id : "")
        .text("client", member.client_id ? member.client_id : "")
        .text("host", member.client_host ? member.client_host : "");
      auto assigned = decode_member_assignment({static_cast<const char*>(member.member_assignment),
                                                static_cast<size_t>(member.member_assignment_size)});
      std::vector<int32_t> ps;
      if (assigned)
        for (const auto& t : *assigned)
          if (t.topic == cluster_.events_topic)
            ps.insert(ps.end(), t.partitions.begin(), t.partitions.end());
      f.json("partitions", json_integer_array(ps));
      members += (members.size() > 1 ? "," : "") + f.json_object();
    }
  }
  rd_kafka_group_list_destroy(groups);
  out.json("members", members + "]");
  return out.json_object() + "\n";
}

} // namespace volley
