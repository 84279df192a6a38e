#include "signing/timestamp_tolerance.hpp"

namespace volley {

timestamp_verdict judge_timestamp(int64_t timestamp_s, int64_t now_s, int64_t tolerance_s) {
  // The difference of two int64 values always fits in a uint64 when taken
  // from the larger one, so a hostile header cannot overflow it.
  timestamp_verdict out;
  const uint64_t tolerance = static_cast<uint64_t>(tolerance_s < 0 ? 0 : tolerance_s);
  if (timestamp_s <= now_s) {
    out.off_by_s = static_cast<uint64_t>(now_s) - static_cast<uint64_t>(timestamp_s);
    if (out.off_by_s > tolerance)
      out.age = timestamp_age::too_old;
  } else {
    out.off_by_s = static_cast<uint64_t>(timestamp_s) - static_cast<uint64_t>(now_s);
    if (out.off_by_s > tolerance)
      out.age = timestamp_age::too_new;
  }
  return out;
}

std::string timestamp_verdict::reason(int64_t timestamp_s, int64_t tolerance_s) const {
  if (accepted())
    return "";
  const std::string where = age == timestamp_age::too_old ? " s old" : " s in the future";
  return "webhook-timestamp " + std::to_string(timestamp_s) + " is " + std::to_string(off_by_s) + where +
         ", more than the tolerance of " + std::to_string(tolerance_s) +
         " s (a replayed or delayed request, or a clock out of sync)";
}

} // namespace volley
