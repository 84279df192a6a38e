#pragma once
// Log-scale latency histogram: percentiles within one bucket (25 %) of the
// truth. Only the buckets that hold something are stored (an endpoint's
// latencies fill a handful): a monitor keeps one per window slot, about 50
// per subscriber, and 10,000 subscribers at 96 buckets each cost 200 MB.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace volley {

class latency_histogram {
public:
  static constexpr size_t bucket_count = 96; // 0.01 ms .. ~4.5 h
  static_assert(bucket_count <= 256, "bucket indices are stored in a byte");

  void record(double ms);
  void merge(const latency_histogram& other);
  void clear() { *this = latency_histogram{}; }

  uint64_t count() const { return count_; }
  double mean_ms() const { return count_ == 0 ? 0 : sum_ms_ / static_cast<double>(count_); }
  // Upper bound of the bucket holding the p-th quantile (p in [0,1]); 0 when empty.
  double percentile_ms(double p) const;

  // The buckets themselves (for /metrics): bucket i holds the latencies in
  // (upper_bound_ms(i-1), upper_bound_ms(i)]; the last one everything above.
  uint32_t bucket(size_t i) const;
  static double upper_bound_ms(size_t i);
  double sum_ms() const { return sum_ms_; }
  // Rebuilds one from what bucket(), count() and sum_ms() gave (a snapshot).
  void restore_bucket(size_t i, uint32_t n);
  void restore_totals(uint64_t count, double sum_ms) {
    count_ = count;
    sum_ms_ = sum_ms;
  }

private:
  uint32_t& at(size_t i); // the bucket's count, inserted as 0 when absent

  // (bucket, count) of the non-empty buckets, by bucket.
  std::vector<std::pair<uint8_t, uint32_t>> buckets_;
  uint64_t count_ = 0;
  double sum_ms_ = 0;
};

} // namespace volley
