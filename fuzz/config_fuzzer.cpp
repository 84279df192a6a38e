// libFuzzer target: the config loader. Any input must give a config or a
// list of errors that each say something, never a crash.

#include "config/config_loader.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto result = volley::parse_config(text);
  if (result.value.has_value() == !result.errors.empty())
    std::abort();
  for (const auto& e : result.errors)
    if (e.message.empty())
      std::abort();
  volley::format_config_errors(result.errors);
  return 0;
}
