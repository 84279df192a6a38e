// libFuzzer target: the ingress line parser/validator and the answer lines
// it leads to. Any input must give an event, an op or an error, never a crash,
// and every answer must be one line.

#include "protocol/ingress_line.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line{reinterpret_cast<const char*>(data), size};
  auto parsed = volley::parse_ingress_line(line);
  std::string answer;
  switch (parsed.what) {
    case volley::parsed_line::kind::event:
      if (parsed.event.type.empty() || parsed.event.priority > 3)
        std::abort();
      answer = volley::ack_line(parsed.event.id, false);
      volley::delivery_body(parsed.event.id, parsed.event.type, 0, parsed.event.data);
      break;
    case volley::parsed_line::kind::op:
      answer = volley::ack_line(parsed.op, false);
      break;
    case volley::parsed_line::kind::error:
      answer = volley::error_line(parsed.error);
      break;
  }
  if (answer.empty() || answer.back() != '\n' || answer.find('\n') != answer.size() - 1)
    std::abort();
  return 0;
}
