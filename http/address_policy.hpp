#pragma once
// The SSRF guard's rule: which socket addresses a webhook may not reach
// unless allow_private_networks is set. Checked on the resolved address at
// connect time, so a hostname that re-resolves (DNS rebinding) cannot slip by.

#include <string>
#include <sys/socket.h>

namespace volley {

// Loopback, private, link-local, multicast, unspecified, CGNAT, IPv4-mapped
// forms of those, unique-local IPv6. Unknown families are refused too.
bool is_restricted_address(const sockaddr* addr);

// "127.0.0.1", "::1" ... for messages.
std::string address_to_string(const sockaddr* addr);

} // namespace volley
