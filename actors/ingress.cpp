#include "actors/ingress.hpp"

#include "logging/logger.hpp"
#include "signing/signature.hpp"

#include <chrono>

#include <rapidjson/document.h>

#include <cstring>

namespace volley {

namespace {

constexpr size_t read_chunk = 64 * 1024;

} // namespace

void connection_state::answer_now(std::string line) {
  ++next_slot;
  answers.emplace_back(std::move(line));
}

void connection_state::fill(uint64_t slot, std::string line) {
  if (slot < first_slot || slot - first_slot >= answers.size())
    return; // answered already (cannot happen) or from a stale request
  answers[slot - first_slot] = std::move(line);
}

void connection_state::refuse_and_close(caf::io::broker* self, std::string line) {
  answer_now(std::move(line));
  closing = true;
  write_ready(self);
  self->close(hdl);
}

void connection_state::on_line(caf::io::broker* self, std::string_view line) {
  if (closing)
    return;
  if (!authenticated) {
    // The first line must be {"op":"auth","token":...}; anything else ends
    // the connection. The comparison takes the same time for any token.
    // Iterative parsing: this is whatever an unauthenticated peer sent.
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
    std::string_view token;
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("op") && doc["op"].IsString() &&
        std::string_view{doc["op"].GetString()} == "auth" && doc.HasMember("token") &&
        doc["token"].IsString())
      token = {doc["token"].GetString(), doc["token"].GetStringLength()};
    if (!token.empty() && constant_time_equal(token, deps.cfg.token)) {
      authenticated = true;
      answer_now("{\"ok\":true}\n");
    } else {
      refuse_and_close(self, error_line("authentication required: send {\"op\":\"auth\",\"token\":...} "
                                        "as the first line"));
    }
    return;
  }
  if (draining) {
    answer_now(error_line("not accepted: volleyd is shutting down; send it again after the restart"));
    return;
  }
  if (line.size() > deps.cfg.max_line_bytes) {
    ++invalid;
    answer_now(error_line("line longer than " + std::to_string(deps.cfg.max_line_bytes) +
                          " bytes (ingress.max_line_bytes)"));
    return;
  }
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    ++invalid;
    answer_now(error_line("empty line: expected one JSON object"));
    return;
  }
  auto parsed = parse_ingress_line(line);
  switch (parsed.what) {
    case parsed_line::kind::error:
      ++invalid;
      answer_now(error_line(parsed.error));
      return;
    case parsed_line::kind::event: {
      auto slot = next_slot++;
      answers.emplace_back(std::nullopt);
      batch.items.push_back({slot, std::move(parsed.event), deps.now()});
      return;
    }
    case parsed_line::kind::op:
      on_op(self, parsed.op, line);
      return;
  }
}

void connection_state::on_op(caf::io::broker* self, const std::string& op, std::string_view line) {
  auto parsed = parse_control_request(op, line);
  if (!parsed.request) {
    answer_now(error_line(parsed.error));
    return;
  }
  auto route = deps.control.route_of(*parsed.request);
  if (!route.target) {
    answer_now(std::move(route.error));
    return;
  }
  await_answer(self, next_slot++, route.target,
               caf::make_message(control_atom::value, std::move(*parsed.request)));
}

void connection_state::await_answer(caf::io::broker* self, uint64_t slot, caf::actor target,
                                    caf::message msg) {
  answers.emplace_back(std::nullopt);
  self->request(target, caf::infinite, std::move(msg))
    .then(
      [=](std::string& reply) {
        fill(slot, std::move(reply));
        write_ready(self);
      },
      [=](caf::error& err) {
        fill(slot, error_line("op failed: " + self->system().render(err)));
        write_ready(self);
      });
}

void connection_state::on_bytes(caf::io::broker* self, const char* data, size_t size) {
  last_activity_ms = deps.now();
  const char* end = data + size;
  while (data < end) {
    auto* nl = static_cast<const char*>(std::memchr(data, '\n', static_cast<size_t>(end - data)));
    if (nl == nullptr) {
      if (!discarding) {
        partial.append(data, end);
        if (partial.size() > deps.cfg.max_line_bytes) {
          // Answer now and skip the rest of this line up to its newline.
          ++invalid;
          answer_now(error_line("line longer than " + std::to_string(deps.cfg.max_line_bytes) +
                                " bytes (ingress.max_line_bytes)"));
          partial.clear();
          partial.shrink_to_fit();
          discarding = true;
        }
      }
      break;
    }
    if (discarding) {
      discarding = false;
    } else if (partial.empty()) {
      on_line(self, std::string_view{data, static_cast<size_t>(nl - data)});
    } else {
      partial.append(data, nl);
      on_line(self, partial);
      partial.clear();
    }
    data = nl + 1;
  }
  if (!batch.items.empty()) {
    batch.reply_to = caf::actor_cast<caf::actor>(self);
    self->send(deps.router, ingest_atom::value, std::exchange(batch, ingest_batch{}));
  }
  if (invalid > 0 && deps.control.monitor)
    self->send(deps.control.monitor, invalid_atom::value, std::exchange(invalid, 0));
  write_ready(self);
}

void connection_state::write_ready(caf::io::broker* self) {
  bool wrote = false;
  while (!answers.empty() && answers.front()) {
    auto& line = *answers.front();
    self->write(hdl, line.size(), line.data());
    answers.pop_front();
    ++first_slot;
    wrote = true;
  }
  if (wrote)
    self->flush(hdl);
  // Flow control: stop reading while too many lines await their answer.
  if (!halted && answers.size() >= deps.cfg.max_unacked) {
    halted = true;
    self->halt(hdl);
  } else if (halted && answers.size() <= deps.cfg.max_unacked / 2) {
    halted = false;
    self->trigger(hdl);
  }
}

namespace {

caf::behavior connection(caf::io::stateful_broker<connection_state>* self, caf::io::connection_handle hdl,
                         ingress_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.hdl = hdl;
  st.authenticated = st.deps.cfg.token.empty();
  st.last_activity_ms = st.deps.now();
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
  auto idle = std::chrono::milliseconds(st.deps.cfg.idle_timeout_ms);
  if (idle.count() > 0)
    self->delayed_send(self, idle, tick_atom::value);
  return {
    [=](tick_atom) {
      auto& st = self->state;
      auto quiet_ms = st.deps.now() - st.last_activity_ms;
      // A connection still waiting for answers is not idle.
      if (quiet_ms >= idle.count() && st.answers.empty() && !st.closing) {
        st.refuse_and_close(self, error_line("no data for " + std::to_string(quiet_ms) +
                                             " ms (ingress.idle_timeout_ms): closing"));
        return;
      }
      self->delayed_send(self, std::max(idle - std::chrono::milliseconds(quiet_ms), idle / 10),
                         tick_atom::value);
    },
    [=](const caf::io::new_data_msg& msg) { self->state.on_bytes(self, msg.buf.data(), msg.buf.size()); },
    [=](drain_atom) {
      // Lines already taken still get their acknowledgement; new ones are refused.
      self->state.draining = true;
    },
    [=](ack_atom, ack_batch& batch) {
      auto& st = self->state;
      for (auto& a : batch.acks)
        st.fill(a.slot, std::move(a.line));
      st.write_ready(self);
    },
    [=](const caf::io::connection_closed_msg&) { self->quit(); },
  };
}

} // namespace

caf::behavior ingress_acceptor(caf::io::stateful_broker<acceptor_state>* self, ingress_deps deps) {
  self->state.deps = std::move(deps);
  // A connection broker ends normally when its peer closes, and with
  // "unreachable" when we closed it: either way its slot is free.
  self->set_down_handler([=](caf::down_msg& msg) { self->state.children.erase(msg.source); });
  return {
    [=](start_atom) -> caf::result<uint16_t> {
      const auto& cfg = self->state.deps.cfg;
      auto res = self->add_tcp_doorman(cfg.port, cfg.host.c_str(), true);
      if (!res)
        return caf::make_error(caf::sec::cannot_open_port, "cannot listen on " + cfg.host + ":" +
                                                             std::to_string(cfg.port) + ": " +
                                                             self->system().render(res.error()));
      return res->second;
    },
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      if (st.children.size() >= st.deps.cfg.max_connections) {
        auto line = error_line("too many connections (ingress.max_connections=" +
                               std::to_string(st.deps.cfg.max_connections) + ")");
        self->write(msg.handle, line.size(), line.data());
        self->flush(msg.handle);
        self->close(msg.handle);
        return;
      }
      auto child = self->fork(connection, msg.handle, st.deps);
      self->monitor(child);
      st.children.insert(child.address());
    },
    [=](drain_atom) {
      // Stop accepting connections and events; open connections still
      // receive the answers they are owed.
      self->close_all();
      for (auto& child : self->state.children)
        if (auto handle = caf::actor_cast<caf::actor>(child))
          self->send(handle, drain_atom::value);
      return true;
    },
    [=](close_atom) {
      // Last step of a shutdown, after the final acknowledgements went out.
      for (auto& child : self->state.children)
        if (auto handle = caf::actor_cast<caf::actor>(child))
          self->send_exit(handle, caf::exit_reason::user_shutdown);
      return true;
    },
  };
}

} // namespace volley
