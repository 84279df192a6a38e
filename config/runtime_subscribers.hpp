#pragma once
// The subscribers added over the HTTP API ("API subscribers"), beside the
// config file's: their stored definitions, each validated exactly as the
// file's subscribers are (parse_subscriber_config, with the file's
// defaults), and the rules for reading and changing them:
//   - a file subscriber can be read, never changed or deleted here (conflict);
//   - POST creates (conflict when the name is taken), PUT creates or
//     replaces, DELETE removes (its pending deliveries stay on disk);
//   - a file subscriber hides an API one of the same name ("shadowed").
// Plain logic: decide() says what to store and what to do; the node stores
// it through persistence and, once it is on disk, applies it here and to its
// actors.

#include "config/config.hpp"
#include "control/subscriber_change.hpp"
#include "storage/records.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace volley {

class runtime_subscribers {
public:
  struct plan {
    subscriber_answer answer;                   // what the client hears once `store` is on disk
    std::optional<subscriber_definition> store; // none: nothing to store, nothing to do
    enum class action { none, start, reconfigure, stop } act = action::none;
    subscriber_config config; // start, reconfigure: its settings; stop: its name
  };

  // The stored definitions, validated against `defaults`. One that no longer
  // validates stays stored but does not run: one problem line each says why.
  std::vector<std::string> load(const std::vector<subscriber_definition>& stored,
                                const delivery_defaults& defaults);
  // Validates every definition again against new defaults (a reload); one
  // that fails keeps its settings: one problem line each.
  std::vector<std::string> rebase(const delivery_defaults& defaults);

  // What runs: the file's subscribers, then the API's the file does not hide.
  std::vector<subscriber_config> merged(const std::vector<subscriber_config>& file) const;
  // API subscribers hidden by a file subscriber of the same name.
  std::vector<std::string> shadowed(const std::vector<subscriber_config>& file) const;
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }

  // Decides a read or change against the file's subscribers. Changes nothing.
  plan decide(const subscriber_change& change, const std::vector<subscriber_config>& file,
              const delivery_defaults& defaults, int64_t now_ms) const;
  // Takes in a plan whose definition is on disk.
  void apply(const plan& p);

private:
  struct entry {
    subscriber_definition definition;
    subscriber_config config;
  };

  std::string list_body(const std::vector<subscriber_config>& file) const;
  plan store(const std::string& name, const std::string& body, bool create,
             const std::vector<subscriber_config>& file, const delivery_defaults& defaults,
             int64_t now_ms) const;

  std::map<std::string, entry> entries_;
};

} // namespace volley
