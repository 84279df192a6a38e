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

void latency_histogram::record(double ms) {
  size_t bucket = 0;
  if (ms > smallest_ms)
    bucket = static_cast<size_t>(std::ceil(std::log(ms / smallest_ms) / std::log(growth)));
  buckets_[std::min(bucket, bucket_count - 1)] += 1;
  ++count_;
  sum_ms_ += ms;
}

void latency_histogram::merge(const latency_histogram& other) {
  for (size_t i = 0; i < bucket_count; ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ms_ += other.sum_ms_;
}

double latency_histogram::percentile_ms(double p) const {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank)
      return upper_bound_ms(i);
  }
  return upper_bound_ms(bucket_count - 1);
}

} // namespace volley
