#include "cluster/group_consumer.hpp"

#include "logging/logger.hpp"

#include <chrono>
#include <cstring>

namespace volley {

namespace {

using clock = std::chrono::steady_clock;

std::vector<int32_t> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<int32_t> out;
  for (int i = 0; i < list->cnt; ++i)
    out.push_back(list->elems[i].partition);
  return out;
}

} // namespace

group_consumer::group_consumer(kafka_conf_ptr conf, std::string topic, partition_listener& listener,
                               offset_tracker& offsets, consumer_options options, std::string& error)
  : topic_(std::move(topic)), listener_(listener), offsets_(offsets), options_(options) {
  rd_kafka_conf_set_rebalance_cb(conf.get(), &group_consumer::on_rebalance);
  rd_kafka_conf_set_opaque(conf.get(), this);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    error = std::string{"cannot create the group consumer: "} + errstr;
    return;
  }
  conf.release();
  handle_.reset(rk);
  rd_kafka_poll_set_consumer(rk);
}

group_consumer::~group_consumer() { stop(); }

void group_consumer::start() {
  if (!handle_ || thread_.joinable())
    return;
  kafka_partition_list topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), topic_.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(handle_.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log_error("cluster: cannot subscribe to " + topic_ + ": " + rd_kafka_err2str(err));
  thread_ = std::thread{[this] { run(); }};
}

void group_consumer::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

std::vector<int32_t> group_consumer::assignment() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return {owned_.begin(), owned_.end()};
}

std::map<int32_t, int64_t> group_consumer::lag() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return lag_;
}

void group_consumer::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<group_consumer*>(opaque)->rebalance(err, partitions);
}

void group_consumer::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  auto* rk = handle_.get();
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  auto ps = partitions_of(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Restored before they are fetched: nothing of them is consumed until
    // their state is back.
    for (auto p : ps)
      offsets_.forget(p);
    listener_.assigned(ps);
    {
      std::lock_guard<std::mutex> guard{mutex_};
      owned_.insert(ps.begin(), ps.end());
    }
    if (cooperative) {
      if (kafka_error e{rd_kafka_incremental_assign(rk, partitions)})
        log_error(std::string{"cluster: cannot take the assigned partitions: "} +
                  rd_kafka_error_string(e.get()));
    } else {
      rd_kafka_assign(rk, partitions);
    }
    return;
  }
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    log_error(std::string{"cluster: rebalance failed: "} + rd_kafka_err2str(err));
    rd_kafka_assign(rk, nullptr);
    return;
  }
  const bool lost = rd_kafka_assignment_lost(rk) != 0;
  listener_.revoked(ps, lost);
  if (!lost) {
    std::vector<offset_tracker::commit_point> points;
    for (auto p : ps)
      if (auto next = offsets_.committable(p))
        points.push_back({p, *next});
    commit(points, true);
  }
  for (auto p : ps) {
    offsets_.forget(p);
    rewinding_.erase(p);
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto p : ps) {
      owned_.erase(p);
      lag_.erase(p);
    }
  }
  if (cooperative) {
    if (kafka_error e{rd_kafka_incremental_unassign(rk, partitions)})
      log_error(std::string{"cluster: cannot let the revoked partitions go: "} +
                rd_kafka_error_string(e.get()));
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

void group_consumer::commit(const std::vector<offset_tracker::commit_point>& points, bool sync) {
  if (points.empty())
    return;
  kafka_partition_list list{rd_kafka_topic_partition_list_new(static_cast<int>(points.size()))};
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (const auto& c : points)
      if (owned_.count(c.partition) > 0)
        rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), c.partition)->offset = c.offset;
  }
  if (list->cnt == 0)
    return;
  auto err = rd_kafka_commit(handle_.get(), list.get(), sync ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    log_warn(std::string{"cluster: offset commit failed: "} + rd_kafka_err2str(err) +
             "; committed again with the next one, events after it may be consumed twice");
}

void group_consumer::rewind_failed() {
  for (auto p : assignment()) {
    auto at = offsets_.rewind_point(p);
    if (!at)
      continue;
    // Read again after a pause, not in a tight loop while storage refuses.
    auto due = rewind_after_.try_emplace(p, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    if (std::chrono::steady_clock::now() < due.first->second)
      continue;
    rewind_after_.erase(p);
    kafka_partition_list list{rd_kafka_topic_partition_list_new(1)};
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = *at;
    if (kafka_error e{rd_kafka_seek_partitions(handle_.get(), list.get(), 5000)}) {
      log_warn("cluster: cannot go back to offset " + std::to_string(*at) + " of partition " +
               std::to_string(p) + ": " + rd_kafka_error_string(e.get()) + "; trying again");
      continue;
    }
    rewinding_[p] = *at;
    offsets_.rewound(p);
    listener_.rewound(p);
  }
}

void group_consumer::measure_lag() {
  auto owned = assignment();
  if (owned.empty())
    return;
  kafka_partition_list list{rd_kafka_topic_partition_list_new(static_cast<int>(owned.size()))};
  for (auto p : owned)
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p);
  rd_kafka_position(handle_.get(), list.get());
  std::map<int32_t, int64_t> lag;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(handle_.get(), topic_.c_str(), e.partition, &low, &high) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    auto position = e.offset >= 0 ? e.offset : offsets_.committable(e.partition).value_or(low);
    lag[e.partition] = std::max<int64_t>(high - position, 0);
  }
  std::lock_guard<std::mutex> guard{mutex_};
  lag_ = std::move(lag);
}

void group_consumer::run() {
  auto* rk = handle_.get();
  auto next_commit = clock::now() + options_.commit_interval;
  auto next_lag = clock::now();
  while (!stopping_) {
    rewind_failed();
    if (clock::now() >= next_commit) {
      commit(offsets_.take_commits(), false);
      next_commit = clock::now() + options_.commit_interval;
    }
    if (clock::now() >= next_lag) {
      measure_lag();
      next_lag = clock::now() + std::chrono::seconds(1);
    }
    if (offsets_.in_flight() >= options_.max_in_flight) {
      // Too much handed over and not done: hold back until half of it is.
      offsets_.wait_below(options_.max_in_flight / 2, std::chrono::milliseconds(100));
      continue;
    }
    std::vector<kafka_record> batch;
    for (int timeout = 100; batch.size() < options_.batch; timeout = 0) {
      kafka_message m{rd_kafka_consumer_poll(rk, timeout)};
      if (!m)
        break;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          log_warn(std::string{"cluster: consumer: "} + rd_kafka_message_errstr(m.get()));
        continue;
      }
      if (auto it = rewinding_.find(m->partition); it != rewinding_.end()) {
        if (m->offset > it->second)
          continue; // fetched before the rewind took effect
        rewinding_.erase(it);
      }
      auto r = record_of(*m);
      offsets_.track(r.partition, r.offset);
      batch.push_back(std::move(r));
    }
    if (!batch.empty())
      listener_.records(std::move(batch));
  }
  // Leaving: the revoke of every partition runs here, on this thread.
  commit(offsets_.take_commits(), true);
  rd_kafka_consumer_close(rk);
}

} // namespace volley
