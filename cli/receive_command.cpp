// `volley receive`: a webhook endpoint on 127.0.0.1 that prints one line per
// request and checks its signatures — for demos, debugging and tests.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/signing_keys.hpp"
#include "receiver/http_receiver.hpp"
#include "signing/signature.hpp"
#include "signing/timestamp_tolerance.hpp"
#include "time/timestamp.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
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

// A timestamp header's value; nullopt when it is not a whole number.
std::optional<int64_t> unix_seconds(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    return std::nullopt;
  return static_cast<int64_t>(value);
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
    const auto timestamp = unix_seconds(request.header("webhook-timestamp"));
    if (!timestamp)
      return signature_verdict::invalid;
    if (!verify_standard_signature(standard, keys, request.header("webhook-id"), *timestamp, request.body))
      return signature_verdict::invalid;
  }
  if (!legacy.empty() && !verify_legacy_signature(legacy, keys, request.body))
    return signature_verdict::invalid;
  return signature_verdict::valid;
}

// Why the request's timestamp is refused (too old, too new, not a number);
// "" when it is within the tolerance or the request has none to check.
std::string timestamp_refusal(const received_request& request, int64_t tolerance_s, int64_t now_s) {
  std::string text = request.header("webhook-timestamp");
  if (text.empty())
    text = request.header("x-webhook-timestamp"); // the legacy headers alone
  if (text.empty())
    return "";
  const auto timestamp = unix_seconds(text);
  if (!timestamp)
    return "webhook-timestamp '" + text + "' is not a number of unix seconds";
  return judge_timestamp(*timestamp, now_s, tolerance_s).reason(*timestamp, tolerance_s);
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

// Checks and prints a line per request; called from the receiver's
// connection threads.
class request_printer {
public:
  request_printer(std::vector<std::string> keys, int64_t tolerance_s, bool quiet)
    : keys_(std::move(keys)), tolerance_s_(tolerance_s), quiet_(quiet) {}

  // Returns why the request is refused ("" when it is not).
  std::string record(const received_request& request) {
    const signature_verdict verdict = check_signatures(request, keys_);
    const std::string refusal =
      timestamp_refusal(request, tolerance_s_, static_cast<int64_t>(std::time(nullptr)));
    ++received_;
    if (verdict == signature_verdict::invalid)
      ++invalid_;
    if (!refusal.empty())
      ++refused_;
    if (quiet_)
      return refusal;
    std::string line = format_rfc3339_ms(unix_ms_now()) + " " + request.method + " " + request.target +
                       " webhook-id=" + or_dash(request.header("webhook-id")) +
                       " type=" + or_dash(request.header("x-event-type")) +
                       " signature=" + verdict_name(verdict);
    if (!refusal.empty())
      line += " refused=\"" + refusal + "\"";
    line += " body=" + printable_body(request.body) + "\n";
    std::lock_guard<std::mutex> lock(output_mutex_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout); // one line at a time, so `| grep` and `tail -f` see it now
    return refusal;
  }

  uint64_t received() const { return received_; }
  uint64_t invalid() const { return invalid_; }
  uint64_t refused() const { return refused_; }

private:
  const std::vector<std::string> keys_;
  const int64_t tolerance_s_;
  const bool quiet_;
  std::mutex output_mutex_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> invalid_{0};
  std::atomic<uint64_t> refused_{0};
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
  const auto options = parse_options(args, receive_command.options);
  if (!options.positional().empty())
    throw usage_error("unexpected argument '" + options.positional().front() + "'");
  const uint16_t port = parse_port(require_value(options, "port"), "--port", true);
  receiver_reply reply;
  reply.status = static_cast<int>(parse_integer(options.value_or("status", "200"), "--status", 200, 599));
  request_printer printer(signing_keys_from_options(options), timestamp_tolerance_from_options(options),
                          options.has("quiet"));

  const sigset_t signals = block_stop_signals(); // before any thread starts
  http_receiver receiver(
    [&printer, &reply](const received_request& request) {
      const std::string refusal = printer.record(request);
      if (refusal.empty())
        return reply;
      // A stale request is the sender's mistake (or a replay): not retried.
      receiver_reply refused;
      refused.status = 400;
      refused.headers = {{"Content-Type", "text/plain"}};
      refused.body = refusal + "\n";
      return refused;
    },
    port);
  std::fprintf(stderr, "volley receive: listening on http://127.0.0.1:%u/ (Ctrl-C to stop)\n",
               static_cast<unsigned>(receiver.port()));

  const int signal_number = wait_for_stop_signal(signals);
  receiver.stop();
  std::fflush(stdout);
  std::fprintf(
    stderr, "volley receive: stopped by %s: received=%llu invalid_signatures=%llu refused_timestamps=%llu\n",
    signal_number == SIGINT ? "SIGINT" : "SIGTERM", static_cast<unsigned long long>(printer.received()),
    static_cast<unsigned long long>(printer.invalid()), static_cast<unsigned long long>(printer.refused()));
  return exit_ok;
}

} // namespace

const command receive_command{
  "receive",
  "run a local webhook endpoint that prints each request",
  "usage: volley receive --port N [--secret S ...] [--tolerance SECONDS] [--status CODE]\n"
  "                      [--quiet]\n"
  "\n"
  "Listens on http://127.0.0.1:N/ (0: any free port, printed on stderr) and\n"
  "prints one line per request: time, method, target, webhook-id, event type,\n"
  "signature=valid|invalid|unsigned|unchecked and the start of the body.\n"
  "Both signature headers are checked when present; \"unchecked\" means the\n"
  "request was signed but no --secret was given. A request whose\n"
  "webhook-timestamp is further than the tolerance from now, either way, is\n"
  "answered 400 with the reason (printed as refused=\"...\"), as a Standard\n"
  "Webhooks receiver refuses a replay. Stops on SIGINT/SIGTERM.\n"
  "\n"
  "  --port N       port on 127.0.0.1, 0 for any free one (required)\n"
  "  --secret S     secret to verify signatures with; repeat to accept several\n"
  "                 (default: none, signatures are not checked)\n"
  "  --tolerance SECONDS\n"
  "                 how far webhook-timestamp may be from now (default 300)\n"
  "  --status CODE  HTTP status to answer with, 200..599 (default 200), e.g. 503\n"
  "                 to watch the daemon retry\n"
  "  --quiet        print no per-request lines, only the summary at exit\n",
  run_receive,
  {{"port"}, {"secret", true, true}, {"tolerance"}, {"status"}, {"quiet", false}}};

} // namespace volley::cli
