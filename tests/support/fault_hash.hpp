#pragma once
// A fixed hash for fault plans: an endpoint's answer computed from the event
// id and the attempt, the same on every run, so a test knows up front what
// volley must end up with.

#include <cstdint>
#include <string>

namespace volley::test {

inline uint64_t mix(uint64_t x) { // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t hash_of(const std::string& text) { // FNV-1a, then mixed
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text)
    h = (h ^ c) * 0x100000001b3ULL;
  return mix(h);
}

} // namespace volley::test
