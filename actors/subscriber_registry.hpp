#pragma once
// The node's one list of running subscriber actors, by name. The node
// changes it (start, reload, shutdown); persistence reads it to hand
// committed deliveries over, and the control plane to reach a subscriber
// an operator names. Thread-safe: readers run on other threads.

#include <caf/actor.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace volley {

class subscriber_registry {
public:
  void add(const std::string& name, caf::actor actor) {
    std::lock_guard<std::mutex> guard{mutex_};
    actors_[name] = std::move(actor);
  }

  void remove(const std::string& name) {
    std::lock_guard<std::mutex> guard{mutex_};
    actors_.erase(name);
  }

  // The actor of `name`; an invalid handle when there is none.
  caf::actor find(const std::string& name) const {
    std::lock_guard<std::mutex> guard{mutex_};
    auto it = actors_.find(name);
    return it == actors_.end() ? caf::actor{} : it->second;
  }

  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> guard{mutex_};
    std::vector<std::string> out;
    for (const auto& entry : actors_)
      out.push_back(entry.first);
    return out;
  }

  std::map<std::string, caf::actor> all() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return actors_;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, caf::actor> actors_;
};

} // namespace volley
