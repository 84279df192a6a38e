#pragma once
// The random numbers behind backoff jitter: SplitMix64, 8 bytes of state.
// Every subscriber keeps one; std::mt19937_64 kept 2.5 KB, a third of an
// idle subscriber's memory (25 MB at 10,000 subscribers). Jitter needs
// spread, not a cryptographic or long-period source. A standard uniform
// random bit generator, for <random>'s distributions.

#include <cstdint>
#include <limits>

namespace volley {

class jitter_random {
public:
  using result_type = uint64_t;

  explicit jitter_random(uint64_t seed) : state_(seed) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

private:
  uint64_t state_;
};

} // namespace volley
