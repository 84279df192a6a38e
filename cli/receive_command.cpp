// `volley receive`: a webhook endpoint on 127.0.0.1 that prints one line per
// request and checks its signatures — for demos, debugging and tests.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/signing_keys.hpp"
#include "receiver/http_receiver.hpp"
#include "signing/signature.hpp"
#include "time/timestamp.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace volley::cli {

namespace {

constexpr size_t shown_body_bytes = 200;

enum class signature_verdict { valid, invalid, unsigned_request, unchecked };

const char* verdict_name(signature_verdict verdict) {
  switch (verdict) {
    case signature_verdict::valid:
      return "valid";
    case signature_verdict::invalid:
      return "invalid";
    case signature_verdict::unsigned_request:
      return "unsigned";
    case signature_verdict::unchecked:
      return "unchecked"; // signed, but no --secret
  }
  return "unknown";
}

// Checks whichever of the two signature headers is present; both must hold.
signature_verdict check_signatures(const received_request& request, const std::vector<std::string>& keys) {
  const std::string standard = request.header("webhook-signature");
  const std::string legacy = request.header("x-webhook-signature");
  if (standard.empty() && legacy.empty())
    return signature_verdict::unsigned_request;
  if (keys.empty())
    return signature_verdict::unchecked;

  if (!standard.empty()) {
    const std::string timestamp_text = request.header("webhook-timestamp");
    char* end = nullptr;
    errno = 0;
    const long long timestamp = std::strtoll(timestamp_text.c_str(), &end, 10);
    if (timestamp_text.empty() || *end != '\0' || errno != 0)
      return signature_verdict::invalid;
    if (!verify_standard_signature(standard, keys, request.header("webhook-id"), timestamp, request.body))
      return signature_verdict::invalid;
  }
  if (!legacy.empty() && !verify_legacy_signature(legacy, keys, request.body))
    return signature_verdict::invalid;
  return signature_verdict::valid;
}

// The body on one line: control characters escaped, cut at a UTF-8
// character boundary after `shown_body_bytes`.
std::string printable_body(const std::string& body) {
  size_t cut = body.size();
  if (cut > shown_body_bytes) {
    cut = shown_body_bytes;
    while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80)
      --cut;
  }
  std::string out;
  out.reserve(cut + 32);
  for (size_t i = 0; i < cut; ++i) {
    const char c = body[i];
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += '?';
    else
      out += c;
  }
  if (cut < body.size())
    out += "... (" + std::to_string(body.size()) + " bytes)";
  return out;
}

std::string or_dash(std::string value) { return value.empty() ? "-" : value; }

// Prints a line per request; called from the receiver's connection threads.
class request_printer {
public:
  request_printer(std::vector<std::string> keys, bool quiet) : keys_(std::move(keys)), quiet_(quiet) {}

  void record(const received_request& request) {
    const signature_verdict verdict = check_signatures(request, keys_);
    ++received_;
    if (verdict == signature_verdict::invalid)
      ++invalid_;
    if (quiet_)
      return;
    const std::string line = format_rfc3339_ms(unix_ms_now()) + " " + request.method + " " + request.target +
                             " webhook-id=" + or_dash(request.header("webhook-id")) +
                             " type=" + or_dash(request.header("x-event-type")) +
                             " signature=" + verdict_name(verdict) + " body=" + printable_body(request.body) +
                             "\n";
    std::lock_guard<std::mutex> lock(output_mutex_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout); // one line at a time, so `| grep` and `tail -f` see it now
  }

  uint64_t received() const { return received_; }
  uint64_t invalid() const { return invalid_; }

private:
  const std::vector<std::string> keys_;
  const bool quiet_;
  std::mutex output_mutex_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> invalid_{0};
};

// Blocks SIGINT/SIGTERM in this thread (and the threads it starts) so that
// wait_for_stop_signal() can take them synchronously: no handler, no global.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0)
    throw std::runtime_error(std::string("cannot block SIGINT/SIGTERM: ") + std::strerror(rc));
  return signals;
}

int wait_for_stop_signal(const sigset_t& signals) {
  int signal_number = SIGTERM;
  sigwait(&signals, &signal_number); // fails only for an invalid set
  return signal_number;
}

int run_receive(const arguments& args) {
  const auto options = parse_options(args, {{"port"}, {"secret", true, true}, {"status"}, {"quiet", false}});
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
  const uint16_t port = parse_port(require_value(options, "port"), "--port", true);
  receiver_reply reply;
  reply.status = static_cast<int>(parse_integer(options.value_or("status", "200"), "--status", 200, 599));
  request_printer printer(signing_keys_from_options(options), options.has("quiet"));

  const sigset_t signals = block_stop_signals(); // before any thread starts
  http_receiver receiver(
    [&printer, &reply](const received_request& request) {
      printer.record(request);
      return reply;
    },
    port);
  std::fprintf(stderr, "volley receive: listening on http://127.0.0.1:%u/ (Ctrl-C to stop)\n",
               static_cast<unsigned>(receiver.port()));

  const int signal_number = wait_for_stop_signal(signals);
  receiver.stop();
  std::fflush(stdout);
  std::fprintf(stderr, "volley receive: stopped by %s: received=%llu invalid_signatures=%llu\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM",
               static_cast<unsigned long long>(printer.received()),
               static_cast<unsigned long long>(printer.invalid()));
  return exit_ok;
}

} // namespace

const command receive_command{
  "receive", "run a local webhook endpoint that prints each request",
  "usage: volley receive --port N [--secret S ...] [--status CODE] [--quiet]\n"
  "\n"
  "Listens on http://127.0.0.1:N/ (0: any free port, printed on stderr) and\n"
  "prints one line per request: time, method, target, webhook-id, event type,\n"
  "signature=valid|invalid|unsigned|unchecked and the start of the body.\n"
  "Both signature headers are checked when present; \"unchecked\" means the\n"
  "request was signed but no --secret was given. Stops on SIGINT/SIGTERM.\n"
  "\n"
  "  --port N       port on 127.0.0.1\n"
  "  --secret S     secret to verify signatures with; repeat to accept several\n"
  "  --status CODE  HTTP status to answer with, 200..599 (default 200), e.g. 503\n"
  "                 to watch the daemon retry\n"
  "  --quiet        print no per-request lines, only the summary at exit\n",
  run_receive};

} // namespace volley::cli
