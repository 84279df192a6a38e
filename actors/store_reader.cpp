#include "actors/store_reader.hpp"

#include "logging/logger.hpp"
#include "protocol/ingress_line.hpp"
#include "storage/store_queries.hpp"
#include "time/timestamp.hpp"

namespace volley {

caf::behavior store_reader(caf::stateful_actor<store_reader_state>*, std::shared_ptr<store> db,
                           std::shared_ptr<const subscriber_registry> subscribers) {
  return {
    [=](control_atom, const control_request& req) -> std::string {
      read_result<std::string> answer = std::string{};
      if (req.op == control_op::queue)
        answer = queue_answer(*db, subscribers ? subscribers->names() : std::vector<std::string>{});
      else if (req.op == control_op::dlq_list)
        answer = dlq_list_answer(*db, req);
      else if (req.op == control_op::events_show)
        answer = event_log_answer(*db, req.event_id);
      else if (req.op == control_op::events_list)
        answer = attempts_answer(*db, req, unix_ms_now());
      else
        return error_line(std::string{"the store reader does not answer \""} + req.name() + "\"");
      if (!answer) {
        log_error(std::string{"storage: "} + req.name() + " failed: " + answer.error());
        return error_line(std::string{req.name()} + " failed: " + answer.error());
      }
      return *answer;
    },
  };
}

} // namespace volley
