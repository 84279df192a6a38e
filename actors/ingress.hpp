#pragma once
// The TCP ingress: an acceptor broker on ingress.host:ingress.port that forks
// one broker per connection. A connection broker splits NDJSON lines, parses
// them, sends events to the router in one batch per read, and writes exactly
// one answer per line, in order, as answers become ready. Reading stops
// (halt) while too many lines await their answer and resumes (trigger) as
// acknowledgements return.

#include "actors/control_plane.hpp"
#include "config/config.hpp"
#include "messages/messages.hpp"
#include "time/clock.hpp"

#include <caf/io/all.hpp>

#include <deque>
#include <optional>
#include <set>
#include <string>

namespace volley {

struct ingress_deps {
  ingress_config cfg;
  caf::actor router;
  control_plane control; // who answers each control op
  clock_fn now = wall_clock();
};

struct connection_state {
  static inline const char* name = "ingress_connection";

  ingress_deps deps;
  caf::io::connection_handle hdl;
  std::string partial;     // bytes of a line not yet ended
  bool discarding = false; // inside an over-long line: skip to its newline
  uint64_t next_slot = 0;
  uint64_t first_slot = 0;                        // slot of answers.front()
  std::deque<std::optional<std::string>> answers; // nullopt: not ready yet
  bool halted = false;
  bool authenticated = false; // true from the start when no token is configured
  bool closing = false;       // refused: ignore whatever else arrives
  bool draining = false;      // shutting down: answer, but accept nothing new
  int64_t last_activity_ms = 0;
  ingest_batch batch;
  uint64_t invalid = 0; // event lines refused as malformed, not yet told to the monitor

  // Answers, then closes the connection (the answer is still sent).
  void refuse_and_close(caf::io::broker* self, std::string line);

  void on_bytes(caf::io::broker* self, const char* data, size_t size);
  void on_line(caf::io::broker* self, std::string_view line);
  void on_op(caf::io::broker* self, const std::string& op, std::string_view line);
  void await_answer(caf::io::broker* self, uint64_t slot, caf::actor target, caf::message msg);
  void answer_now(std::string line);
  void fill(uint64_t slot, std::string line);
  void write_ready(caf::io::broker* self);
};

struct acceptor_state {
  static inline const char* name = "ingress";
  ingress_deps deps;
  std::set<caf::actor_addr> children; // one per open connection
};

caf::behavior ingress_acceptor(caf::io::stateful_broker<acceptor_state>* self, ingress_deps deps);

} // namespace volley
