#pragma once
// A fixed-size log-linear histogram of microsecond latencies (about 0.8 %
// relative error, 1 us .. ~12 days), shared by the bench programs. Plain
// counters: each instance has one writer; the sink keeps one per thread.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace bench {

class latency_histogram {
public:
  static constexpr int sub_bits = 7;           // 128 sub-buckets per power of two
  static constexpr int linear = 2 << sub_bits; // values below this are exact
  static constexpr int buckets = linear + 34 * (1 << sub_bits);

  static int index_of(uint64_t us) {
    if (us < static_cast<uint64_t>(linear))
      return static_cast<int>(us);
    int msb = 63 - __builtin_clzll(us);
    int shift = msb - sub_bits;
    int top = static_cast<int>(us >> shift) - (1 << sub_bits);
    int idx = linear + (shift - 1) * (1 << sub_bits) + top;
    return idx < buckets ? idx : buckets - 1;
  }

  // The middle of the bucket's range, in microseconds.
  static double value_of(int idx) {
    if (idx < linear)
      return idx;
    int shift = (idx - linear) / (1 << sub_bits) + 1;
    int top = (idx - linear) % (1 << sub_bits) + (1 << sub_bits);
    double low = static_cast<double>(uint64_t(top) << shift);
    return low + static_cast<double>(uint64_t(1) << shift) / 2.0;
  }

  // Single writer: a relaxed load + store is enough and avoids a locked add.
  void record(uint64_t us) {
    auto& c = counts_[static_cast<size_t>(index_of(us))];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    total_.store(total_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (us > max_.load(std::memory_order_relaxed))
      max_.store(us, std::memory_order_relaxed);
  }

  void clear() {
    for (auto& c : counts_)
      c.store(0, std::memory_order_relaxed);
    total_.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
  }

  // Adds this histogram into a plain snapshot (readers on other threads).
  void add_to(std::array<uint64_t, buckets>& out, uint64_t& total, uint64_t& max) const {
    for (size_t i = 0; i < out.size(); ++i)
      out[i] += counts_[i].load(std::memory_order_relaxed);
    total += total_.load(std::memory_order_relaxed);
    auto m = max_.load(std::memory_order_relaxed);
    if (m > max)
      max = m;
  }

  // Percentile q (0..100) of a snapshot, in microseconds; 0 when empty.
  static double percentile(const std::array<uint64_t, buckets>& counts, uint64_t total, double q) {
    if (total == 0)
      return 0;
    auto rank = static_cast<uint64_t>(q / 100.0 * static_cast<double>(total));
    if (rank >= total)
      rank = total - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen > rank)
        return value_of(static_cast<int>(i));
    }
    return value_of(buckets - 1);
  }

private:
  std::array<std::atomic<uint64_t>, buckets> counts_{};
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> max_{0};
};

} // namespace bench
