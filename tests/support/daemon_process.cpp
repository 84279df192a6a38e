#include "tests/support/daemon_process.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace volley::test {

daemon_process::daemon_process(std::string config_path, std::string log_path)
  : daemon_process(std::vector<std::string>{VOLLEYD_PATH, "--config", std::move(config_path)},
                   std::move(log_path)) {}

daemon_process::daemon_process(const std::vector<std::string>& argv, std::string log_path)
  : log_path_(std::move(log_path)) {
  // The log may hold earlier runs: only what this run appends counts.
  log_offset_ = read_file(log_path_).size();
  // Built before fork: the child only calls what is safe after it.
  std::vector<char*> args;
  for (const auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, STDERR_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    ::execv(args[0], args.data());
    _exit(127);
  }
}

daemon_process::~daemon_process() {
  if (pid_ > 0)
    kill_hard();
}

bool daemon_process::running() {
  if (pid_ <= 0)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool daemon_process::wait_ready(std::chrono::milliseconds timeout) {
  return wait_until([&] { return !running() || log().find("listening on") != std::string::npos; }, timeout) &&
         running();
}

uint16_t daemon_process::port() const {
  auto text = log();
  auto at = text.find("listening on ");
  if (at == std::string::npos)
    return 0;
  auto end = text.find(' ', at + 13);
  auto colon = text.rfind(':', end);
  if (colon == std::string::npos || colon < at)
    return 0;
  return static_cast<uint16_t>(std::stoi(text.substr(colon + 1, end - colon - 1)));
}

uint16_t daemon_process::api_port(std::chrono::milliseconds timeout) {
  static const std::string marker = "api listening on ";
  std::string text;
  if (!wait_until([&] { return (text = log()).find(marker) != std::string::npos; }, timeout))
    return 0;
  auto at = text.find(marker) + marker.size();
  auto end = text.find_first_of(" \n", at);
  auto colon = text.rfind(':', end);
  if (colon == std::string::npos || colon < at)
    return 0;
  return static_cast<uint16_t>(std::stoi(text.substr(colon + 1, end - colon - 1)));
}

int daemon_process::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  bool done = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!done) {
    kill_hard();
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void daemon_process::kill_hard() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string daemon_process::log() const { return read_file(log_path_).substr(log_offset_); }

int run_command(const std::string& command, std::string& output) {
  output.clear();
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr)
    return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    output.append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace volley::test
