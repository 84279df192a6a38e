#include "cluster/group_assignment.hpp"

namespace volley {

namespace {

// Kafka's protocol: big-endian integers, strings with an int16 length.
class reader {
public:
  explicit reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }

  int64_t integer(size_t bytes) {
    if (!ok_ || in_.size() - pos_ < bytes) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i)
      v = (v << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += bytes;
    // Sign-extend from the field's width.
    auto shift = 64 - 8 * bytes;
    return static_cast<int64_t>(v << shift) >> shift;
  }

  std::string text() {
    auto len = integer(2);
    if (!ok_ || len < 0 || in_.size() - pos_ < static_cast<size_t>(len)) {
      ok_ = false;
      return {};
    }
    std::string out{in_.substr(pos_, static_cast<size_t>(len))};
    pos_ += static_cast<size_t>(len);
    return out;
  }

private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

} // namespace

std::optional<std::vector<topic_assignment>> decode_member_assignment(std::string_view bytes) {
  std::vector<topic_assignment> out;
  if (bytes.empty())
    return out; // a member that holds nothing (yet)
  reader r{bytes};
  r.integer(2); // version
  auto topics = r.integer(4);
  if (!r.ok() || topics < 0 || topics > 100000)
    return std::nullopt;
  for (int64_t t = 0; t < topics && r.ok(); ++t) {
    topic_assignment a;
    a.topic = r.text();
    auto count = r.integer(4);
    if (!r.ok() || count < 0 || count > 1000000)
      return std::nullopt;
    for (int64_t i = 0; i < count && r.ok(); ++i)
      a.partitions.push_back(static_cast<int32_t>(r.integer(4)));
    out.push_back(std::move(a));
  }
  // User data (and newer versions' fields) follow; not needed here.
  if (!r.ok())
    return std::nullopt;
  return out;
}

} // namespace volley
