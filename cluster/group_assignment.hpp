#pragma once
// A consumer group member's assignment as the brokers report it (the
// "consumer" protocol's MemberAssignment bytes), decoded: which partitions of
// which topics it holds. For the `cluster` op.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

struct topic_assignment {
  std::string topic;
  std::vector<int32_t> partitions;
};

// nullopt when the bytes are not a valid assignment.
std::optional<std::vector<topic_assignment>> decode_member_assignment(std::string_view bytes);

} // namespace volley
