#pragma once
// Publishes events with chosen ids through the TCP ingress and requires each
// one acknowledged, in order: what a test delivers is then known up front.

#include <cstdint>
#include <string>
#include <vector>

namespace volley::test {

// One ingress line: the event `id` of `type`, its data naming the id.
std::string event_line(const std::string& id, const std::string& type);

// Sends the lines and fails the test unless every answer is {"ok":true}
// with the id at the same place in `ids`.
void publish_lines(uint16_t port, const std::vector<std::string>& lines, const std::vector<std::string>& ids);

// The same for one event_line per id.
void publish_events(uint16_t port, const std::vector<std::string>& ids, const std::string& type);

} // namespace volley::test
