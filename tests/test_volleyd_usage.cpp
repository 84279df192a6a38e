// What volleyd says about itself: --version, and --help, which names every
// option with its default. (volley's own are in test_cli.)

#define BOOST_TEST_MODULE volleyd_usage
#include <boost/test/unit_test.hpp>

#include "tests/support/daemon_process.hpp"

#include <string>

using namespace volley::test;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(volleyd_prints_its_version) {
  std::string output;
  BOOST_TEST(run_command(std::string{VOLLEYD_PATH} + " --version", output) == 0);
  BOOST_TEST(output == "volleyd " VOLLEY_VERSION "\n");
}

BOOST_AUTO_TEST_CASE(volleyd_help_lists_every_option_with_its_default) {
  std::string output;
  BOOST_TEST(run_command(std::string{VOLLEYD_PATH} + " --help", output) == 0);
  for (const char* option : {"--config PATH", "--check-config PATH", "--version", "-h, --help"})
    BOOST_TEST(contains(output, std::string{"\n  "} + option + " "), option);
  // Both path options say that they have none; the config file's defaults
  // are in the README.
  size_t no_default = 0;
  for (size_t at = output.find("no default"); at != std::string::npos; at = output.find("no default", at + 1))
    ++no_default;
  BOOST_TEST(no_default == 2u);
  BOOST_TEST(contains(output, "Every config key and its default"));
}

BOOST_AUTO_TEST_CASE(volleyd_refuses_an_unknown_option_with_its_usage) {
  std::string output;
  BOOST_TEST(run_command(std::string{VOLLEYD_PATH} + " --port 7400", output) == 2);
  BOOST_TEST(output.rfind("usage: volleyd", 0) == 0u);
  BOOST_TEST(contains(output, "--check-config PATH"));
}
