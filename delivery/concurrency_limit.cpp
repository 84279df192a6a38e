#include "delivery/concurrency_limit.hpp"

#include <algorithm>

namespace volley {

namespace {

// A baseline follows lower medians quickly and higher ones slowly: a rise
// within a few windows is overload, a lasting change becomes the new normal
// (about 30 successes for a 4× change at ratio 3).
constexpr double baseline_down_weight = 1.0 / 8;
constexpr double baseline_up_weight = 1.0 / 256;

// Medians below this are never a rise: on a fast (local) endpoint a few
// milliseconds are scheduling noise, not the endpoint's queue.
constexpr double latency_floor_ms = 10;

} // namespace

load_signal load_signal_of(const attempt_result& result) {
  if (result.nothing_sent()) // says nothing about the load
    return load_signal::neutral;
  if (result.status == 0) // timeout or connection error: no answer at all
    return load_signal::overload;
  if (result.status >= 200 && result.status < 300)
    return load_signal::success;
  if (result.status == 429 || result.status == 503 || result.status == 504)
    return load_signal::overload;
  return load_signal::neutral;
}

const char* to_string(limit_cause cause) {
  switch (cause) {
    case limit_cause::slow_start:
      return "slow_start";
    case limit_cause::increase:
      return "increase";
    case limit_cause::overload:
      return "overload";
    case limit_cause::latency:
      return "latency";
  }
  return "increase";
}

concurrency_limit::concurrency_limit(concurrency_config cfg, uint32_t max_in_flight)
  : cfg_(cfg), max_(std::max<uint32_t>(max_in_flight, 1)) {
  limit_ = cfg_.adaptive ? std::clamp<uint32_t>(cfg_.initial, 1, max_) : max_;
}

std::optional<limit_change> concurrency_limit::on_result(load_signal signal, double latency_ms) {
  if (!cfg_.adaptive)
    return std::nullopt;
  bool may_shrink = hold_ == 0;
  if (hold_ > 0)
    --hold_;
  switch (signal) {
    case load_signal::overload:
      if (!may_shrink)
        return std::nullopt;
      return shrink(limit_cause::overload, latency_ms);
    case load_signal::neutral:
      return std::nullopt;
    case load_signal::success: {
      double median_ms = 0;
      if (!latency_rose(latency_ms, median_ms))
        return grow();
      if (!may_shrink)
        return std::nullopt; // slow: no growth either
      return shrink(limit_cause::latency, median_ms);
    }
  }
  return std::nullopt;
}

std::optional<limit_change> concurrency_limit::grow() {
  if (limit_ >= max_ || ++successes_ < limit_)
    return std::nullopt;
  successes_ = 0;
  limit_change change;
  change.from = limit_;
  change.cause = slow_start_ ? limit_cause::slow_start : limit_cause::increase;
  auto next = slow_start_ ? uint64_t{limit_} * 2 : uint64_t{limit_} + 1;
  limit_ = static_cast<uint32_t>(std::min<uint64_t>(next, max_));
  change.to = limit_;
  return change;
}

std::optional<limit_change> concurrency_limit::shrink(limit_cause cause, double latency_ms) {
  limit_change change;
  change.from = limit_;
  change.cause = cause;
  change.latency_ms = latency_ms;
  change.baseline_ms = baseline_ms_;
  slow_start_ = false;
  successes_ = 0;
  since_shrink_ = 0;
  // Up to the old limit were in flight: their results are older news.
  hold_ = limit_;
  auto next = static_cast<uint32_t>(static_cast<double>(limit_) * cfg_.decrease_factor);
  limit_ = std::max<uint32_t>(next, 1);
  change.to = limit_;
  if (change.to == change.from) // already at 1
    return std::nullopt;
  return change;
}

bool concurrency_limit::latency_rose(double latency_ms, double& median_ms) {
  recent_[recorded_ % recent_.size()] = latency_ms;
  ++recorded_;
  ++since_shrink_;
  if (recorded_ < recent_.size())
    return false;
  // The lower median: a rise needs more than half of the recent successes.
  auto sorted = recent_;
  auto middle = sorted.begin() + (sorted.size() - 1) / 2;
  std::nth_element(sorted.begin(), middle, sorted.end());
  median_ms = *middle;
  bool first = recorded_ == recent_.size();
  // Only successes since the last decrease speak about the current limit.
  bool rose = !first && cfg_.latency_ratio > 0 && since_shrink_ >= recent_.size() &&
              median_ms > std::max(baseline_ms_ * cfg_.latency_ratio, latency_floor_ms);
  if (first)
    baseline_ms_ = median_ms;
  else
    baseline_ms_ +=
      (median_ms - baseline_ms_) * (median_ms < baseline_ms_ ? baseline_down_weight : baseline_up_weight);
  return rose;
}

} // namespace volley
