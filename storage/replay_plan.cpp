#include "storage/replay_plan.hpp"

#include <algorithm>

namespace volley {

replay_plan plan_replay(const event_log& log, const std::string& named,
                        const std::function<bool(const std::string&)>& running) {
  replay_plan plan;
  if (!named.empty()) {
    if (!running(named))
      plan.error = "no subscriber named \"" + named + "\"";
    else
      plan.to.push_back(named);
    return plan;
  }
  for (const auto& a : log.attempts)
    if (std::find(plan.to.begin(), plan.to.end(), a.subscriber) == plan.to.end() && running(a.subscriber))
      plan.to.push_back(a.subscriber);
  if (plan.to.empty())
    plan.error = "event \"" + log.event.id + "\" has no running subscriber to go to again; name one";
  std::sort(plan.to.begin(), plan.to.end());
  return plan;
}

} // namespace volley
