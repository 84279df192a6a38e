#pragma once
// The HTTP API's reads and changes of subscribers (GET, POST, PUT, DELETE
// /v1/subscribers), as the node receives them, and the node's answer.
// Subscribers added this way are the node's "API subscribers": stored in
// LMDB, validated as the config file's; the file's own can only be read.

#include <string>
#include <string_view>

namespace volley {

struct subscriber_change {
  enum class kind {
    list,    // every subscriber, the file's and the API's
    get,     // one, by name
    create,  // a new API subscriber; refused when the name is taken
    replace, // an API subscriber, created or replaced
    remove,  // an API subscriber
  };
  kind what = kind::list;
  std::string name; // get, replace, remove: the name in the path
  std::string body; // create, replace: the subscriber object as JSON text
};

struct subscriber_answer {
  enum class kind {
    ok, // read, replaced or removed
    created,
    invalid,     // the body: JSON {"error": ..., "errors": [{"key", "message"}]}
    not_found,   // no subscriber of that name
    conflict,    // the name is taken, or belongs to a config file subscriber
    unavailable, // the change could not be stored; nothing changed
  };
  kind what = kind::ok;
  std::string body; // a JSON object; {"error": "..."} unless ok or created
};

// A list or get answer with each subscriber's live state from the monitor's
// `subscribers` answer line added as "state" (nothing added for a
// subscriber the monitor does not know yet, or when the line is an error).
std::string with_live_state(std::string_view answer_body, std::string_view monitor_line);

} // namespace volley
