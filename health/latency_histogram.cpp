#include "health/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace volley {

namespace {

constexpr double smallest_ms = 0.01;
constexpr double growth = 1.25;

} // namespace

double latency_histogram::upper_bound_ms(size_t bucket) {
  return smallest_ms * std::pow(growth, static_cast<double>(bucket));
}

uint32_t& latency_histogram::at(size_t i) {
  auto index = static_cast<uint8_t>(i);
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), index,
                             [](const auto& entry, uint8_t b) { return entry.first < b; });
  if (it == buckets_.end() || it->first != index)
    it = buckets_.emplace(it, index, 0);
  return it->second;
}

uint32_t latency_histogram::bucket(size_t i) const {
  for (const auto& [index, n] : buckets_)
    if (index == i)
      return n;
  return 0;
}

void latency_histogram::restore_bucket(size_t i, uint32_t n) {
  if (i < bucket_count)
    at(i) = n;
}

void latency_histogram::record(double ms) {
  size_t bucket = 0;
  if (ms > smallest_ms)
    bucket = static_cast<size_t>(std::ceil(std::log(ms / smallest_ms) / std::log(growth)));
  at(std::min(bucket, bucket_count - 1)) += 1;
  ++count_;
  sum_ms_ += ms;
}

void latency_histogram::merge(const latency_histogram& other) {
  if (&other == this) {
    auto copy = other;
    merge(copy);
    return;
  }
  for (const auto& [index, n] : other.buckets_)
    at(index) += n;
  count_ += other.count_;
  sum_ms_ += other.sum_ms_;
}

double latency_histogram::percentile_ms(double p) const {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (const auto& [index, n] : buckets_) {
    seen += n;
    if (seen >= rank)
      return upper_bound_ms(index);
  }
  return upper_bound_ms(bucket_count - 1);
}

} // namespace volley
