#pragma once
// Whom a replay of a logged event goes to (events.replay): the subscriber
// named, else every subscriber the event went to before that still runs,
// sorted; an error an operator can act on when there is nobody. Plain
// logic: which subscribers run is asked through `running`.

#include "storage/records.hpp"

#include <functional>
#include <string>
#include <vector>

namespace volley {

struct replay_plan {
  std::vector<std::string> to; // empty when `error` says why
  std::string error;
};

replay_plan plan_replay(const event_log& log, const std::string& named,
                        const std::function<bool(const std::string&)>& running);

} // namespace volley
