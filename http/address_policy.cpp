#include "http/address_policy.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

namespace volley {

namespace {

bool restricted_v4(uint32_t host_order) {
  auto in = [host_order](uint32_t net, int bits) {
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (host_order & mask) == net;
  };
  return in(0x00000000, 8)     // 0.0.0.0/8 "this network"
         || in(0x7f000000, 8)  // loopback
         || in(0x0a000000, 8)  // private
         || in(0xac100000, 12) // private
         || in(0xc0a80000, 16) // private
         || in(0xa9fe0000, 16) // link-local (cloud metadata lives here)
         || in(0x64400000, 10) // carrier-grade NAT
         || in(0xe0000000, 4)  // multicast
         || in(0xf0000000, 4); // reserved and broadcast
}

} // namespace

bool is_restricted_address(const sockaddr* addr) {
  if (addr == nullptr)
    return true;
  if (addr->sa_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
    return restricted_v4(ntohl(v4->sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(addr);
    const auto* b = v6->sin6_addr.s6_addr;
    static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    auto v4_at = [b](int i) {
      return (uint32_t{b[i]} << 24) | (uint32_t{b[i + 1]} << 16) | (uint32_t{b[i + 2]} << 8) | b[i + 3];
    };
    // IPv6 forms that carry an IPv4 address: IPv4-mapped, NAT64 (64:ff9b::/96), 6to4 (2002::/16).
    static const unsigned char nat64_prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (std::memcmp(b, mapped_prefix, 12) == 0 || std::memcmp(b, nat64_prefix, 12) == 0)
      return restricted_v4(v4_at(12));
    if (b[0] == 0x20 && b[1] == 0x02 && restricted_v4(v4_at(2)))
      return true;
    return IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
           IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr) || IN6_IS_ADDR_SITELOCAL(&v6->sin6_addr) ||
           IN6_IS_ADDR_MULTICAST(&v6->sin6_addr) || IN6_IS_ADDR_V4COMPAT(&v6->sin6_addr) ||
           (b[0] & 0xfe) == 0xfc; // fc00::/7 unique local
  }
  return true;
}

std::string address_to_string(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (addr && addr->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof(buf));
  else if (addr && addr->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof(buf));
  return buf;
}

} // namespace volley
