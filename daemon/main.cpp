// volleyd: the Volley daemon. `volleyd --config PATH` runs it;
// `volleyd --check-config PATH` validates a config file and exits.

#include "actors/ingress.hpp"
#include "cluster/kafka_settings.hpp"
#include "config/config_loader.hpp"
#include "daemon/node.hpp"
#include "logging/logger.hpp"
#include "storage/lmdb_store.hpp"

#include <curl/curl.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <malloc.h>
#include <string>
#include <utility>
#include <sys/resource.h>

using namespace volley;

namespace {

int usage(int code) {
  (code == 0 ? std::cout : std::cerr)
    << "usage: volleyd --config PATH | --check-config PATH | --version | --help\n"
       "\n"
       "  --config PATH        run the daemon with the config file at PATH (no default:\n"
       "                       required to run); SIGTERM or SIGINT stops it, SIGHUP\n"
       "                       reloads PATH\n"
       "  --check-config PATH  validate the config file at PATH and exit: 0 when valid,\n"
       "                       2 with every error and its key (no default)\n"
       "  --version            print the version and exit\n"
       "  -h, --help           print this help and exit\n"
       "\n"
       "Every config key and its default: README.md, \"Configuration\".\n";
  return code;
}

std::optional<config> load_or_report(const std::string& path) {
  auto result = load_config_file(path);
  if (result.value && result.value->cluster) {
    // What librdkafka thinks of the pass-through properties, naming each.
    for (auto& e : validate_kafka_settings(*result.value->cluster))
      result.errors.push_back({e.key, e.message});
    if (!result.errors.empty())
      result.value.reset();
  }
  if (!result.errors.empty()) {
    std::cerr << format_config_errors(result.errors) << "volleyd: " << path << ": " << result.errors.size()
              << " error(s); fix the file and try again\n";
    return std::nullopt;
  }
  return std::move(result.value);
}

// glibc grows a thread's heap one page at a time (an mprotect call each,
// which on a VM means cross-core TLB work) and gives memory back as soon
// as 128 KiB sit free at its top: at full speed that was one mprotect for
// every three deliveries. Map heaps whole when they are made (address
// space only: untouched pages use no memory) and keep up to 32 MiB free.
// That is per arena, and glibc makes up to 8 arenas per core as threads
// contend: two arenas cut RSS at 16k transfers in flight from 436 to
// 396 MB at the same rate and CPU (bench (g), 10,000 subscribers).
// GLIBC_TUNABLES or MALLOC_ARENA_MAX set by the operator win.
void tune_malloc() {
  if (std::getenv("GLIBC_TUNABLES") != nullptr)
    return;
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
    mallopt(M_ARENA_MAX, 2);
}

int run(config cfg, const std::string& path) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  // Before any thread starts, so every thread inherits the mask and only
  // sigwait below sees these signals.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Every ingress connection and HTTP transfer holds a descriptor.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  std::string error;
  auto db = std::shared_ptr<store>{lmdb_store::open(cfg.storage.path, cfg.storage.map_size_mb, error)};
  if (!db) {
    log_error("storage: " + error);
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int exit_code = 0;
  {
    node n{std::move(cfg), path, db}; // one copy of 10,000 subscribers' settings, not two
    if (n.start()) {
      for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0)
          continue;
        if (sig == SIGHUP) {
          log_info("SIGHUP: reloading " + path);
          n.reload();
          continue;
        }
        log_info(std::string{"received "} + strsignal(sig) + ": shutting down");
        break;
      }
    } else {
      exit_code = 1;
    }
    n.shutdown();
  }
  curl_global_cleanup();
  log_info("volleyd stopped");
  return exit_code;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0))
    return usage(0);
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "volleyd " VOLLEY_VERSION "\n";
    return 0;
  }
  if (argc != 3)
    return usage(2);
  std::string mode = argv[1];
  std::string path = argv[2];
  if (mode != "--config" && mode != "--check-config")
    return usage(2);
  auto cfg = load_or_report(path);
  if (!cfg)
    return 2;
  if (mode == "--check-config") {
    std::cout << path << ": ok (" << cfg->subscribers.size() << " subscribers)\n";
    return 0;
  }
  log_level level = log_level::info;
  parse_log_level(cfg->log_level, level);
  set_log_level(level);
  // Every line then is one JSON object, the monitor's and all others.
  set_log_format(cfg->monitor.format == "json" ? log_format::json : log_format::text);
  tune_malloc();
  return run(std::move(*cfg), path);
}
