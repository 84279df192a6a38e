#include "api/responder.hpp"

#include "logging/logger.hpp"

#include <atomic>
#include <exception>
#include <string>

namespace volley {

struct responder::state {
  deliver_fn deliver;
  std::atomic<bool> answered{false};

  explicit state(deliver_fn fn) : deliver(std::move(fn)) {}

  bool answer(api_response response) {
    if (answered.exchange(true))
      return false;
    deliver(std::move(response));
    return true;
  }

  ~state() {
    if (answered.load())
      return;
    try {
      answer(api_response::error(500, "internal error: the request was dropped without an answer "
                                      "(a bug in volleyd; the server log may say more)"));
    } catch (const std::exception& e) {
      // A destructor must not throw; the connection then closes without
      // this answer, which the client sees as a failed request.
      log_error(std::string("http api: cannot answer a dropped request: ") + e.what());
    }
  }
};

responder::responder(deliver_fn deliver) : state_(std::make_shared<state>(std::move(deliver))) {}

bool responder::operator()(api_response response) const { return state_->answer(std::move(response)); }

bool responder::answered() const { return state_->answered.load(); }

} // namespace volley
