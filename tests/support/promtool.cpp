#include "tests/support/promtool.hpp"

#include "tests/support/temp_dir.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>

namespace volley::test {

namespace {

constexpr const char* promtool = "/usr/bin/promtool";

} // namespace

promtool_result promtool_check(const std::string& exposition) {
  temp_dir dir;
  const auto file = dir.file("metrics.prom");
  write_file(file, exposition);
  const std::string command = std::string(promtool) + " check metrics < '" + file + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    throw std::runtime_error("cannot run " + command);
  promtool_result result;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0)
    result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

} // namespace volley::test
