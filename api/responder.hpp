#pragma once
// The one answer to one API request. Handlers may keep it, copy it and call
// it later from any thread; the first call wins. When every copy is gone
// without a call, the client gets a 500 instead of a connection that hangs.

#include "api/api_response.hpp"

#include <functional>
#include <memory>

namespace volley {

class responder {
public:
  // `deliver` receives the answer exactly once, on the thread that gave it
  // (or that dropped the last copy). It must not block.
  using deliver_fn = std::function<void(api_response)>;

  explicit responder(deliver_fn deliver);

  // Answers; false (and nothing sent) when this request was answered before.
  bool operator()(api_response response) const;
  bool answered() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace volley
