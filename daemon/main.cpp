// volleyd: the Volley daemon. `volleyd --config PATH` runs it;
// `volleyd --check-config PATH` validates a config file and exits.

#include "actors/ingress.hpp"
#include "actors/monitor.hpp"
#include "actors/persistence.hpp"
#include "actors/router.hpp"
#include "actors/subscriber.hpp"
#include "config/config_loader.hpp"
#include "http/http_engine.hpp"
#include "logging/logger.hpp"
#include "storage/lmdb_store.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <curl/curl.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

using namespace volley;

namespace {

constexpr auto drain_timeout = std::chrono::seconds(10);

int usage(int code) {
  (code == 0 ? std::cout : std::cerr)
    << "usage: volleyd --config PATH        run the daemon\n"
       "       volleyd --check-config PATH  validate a config file and exit\n"
       "       volleyd --version\n";
  return code;
}

std::optional<config> load_or_report(const std::string& path) {
  auto result = load_config_file(path);
  if (!result.errors.empty()) {
    std::cerr << format_config_errors(result.errors) << "volleyd: " << path << ": "
              << result.errors.size() << " error(s); fix the file and try again\n";
    return std::nullopt;
  }
  return std::move(result.value);
}

// Waits for SIGTERM/SIGINT (blocked in every thread, so only sigwait sees them).
void wait_for_stop_signal(const sigset_t& signals) {
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0)
      continue;
    if (sig == SIGHUP) {
      log_warn("SIGHUP: live reload is not available yet; restart volleyd to apply a new config");
      continue;
    }
    log_info(std::string{"received "} + strsignal(sig) + ": shutting down");
    return;
  }
}

int run(const config& cfg) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  // Before any thread starts, so all of them inherit the mask.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto db = std::shared_ptr<store>{lmdb_store::open(cfg.storage.path, cfg.storage.map_size_mb, error)};
  if (!db) {
    log_error("storage: " + error);
    return 1;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int exit_code = 0;
  {
    http_engine_options engine_options;
    engine_options.allow_private_networks = cfg.allow_private_networks;
    http_engine engine{engine_options};

    caf::actor_system_config sys_cfg;
    sys_cfg.load<caf::io::middleman>();
    caf::actor_system sys{sys_cfg};

    std::vector<std::string> names;
    for (const auto& s : cfg.subscribers)
      names.push_back(s.name);
    auto mon = sys.spawn(monitor, cfg.monitor, names);
    auto pers = sys.spawn<caf::detached>(persistence, db, cfg.storage.batch_max, mon);
    auto rtr = sys.spawn(router, routing_table{cfg.subscribers, cfg.priority_rules},
                         static_cast<int64_t>(cfg.queue.dedup_window_s) * 1000, pers);
    std::vector<caf::actor> subs;
    auto by_name = std::make_shared<std::unordered_map<std::string, caf::actor>>();
    for (const auto& s : cfg.subscribers) {
      subscriber_deps deps{&engine, pers, mon, cfg.queue.memory_limit};
      subs.push_back(sys.spawn(subscriber, s, deps));
      (*by_name)[s.name] = subs.back();
    }
    auto acceptor = sys.middleman().spawn_broker(ingress_acceptor,
                                                 ingress_deps{cfg.ingress, rtr, pers, mon, by_name});

    caf::scoped_actor self{sys};
    bool listening = false;
    self->request(acceptor, std::chrono::seconds(10), start_atom::value)
      .receive(
        [&](uint16_t port) {
          listening = true;
          log_info("volleyd " VOLLEY_VERSION " listening on " + cfg.ingress.host + ":" +
                   std::to_string(port) + " subscribers=" + std::to_string(subs.size()) +
                   " storage=" + cfg.storage.path);
        },
        [&](caf::error& err) { log_error("ingress: " + sys.render(err)); });

    if (listening) {
      wait_for_stop_signal(signals);
    } else {
      exit_code = 1;
    }

    // Stop taking events, let in-flight requests finish (bounded), then
    // commit what subscribers reported. Anything unfinished stays pending on
    // disk and continues after a restart.
    self->request(acceptor, std::chrono::seconds(5), drain_atom::value).receive([](bool) {}, [](caf::error&) {});
    auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    for (auto& s : subs) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      self->request(s, std::max(left, std::chrono::milliseconds(1)), drain_atom::value)
        .receive([](bool) {},
                 [&](caf::error&) { log_warn("shutdown: in-flight requests did not finish in time; "
                                             "they stay pending and are retried after restart"); });
    }
    engine.stop();
    self->request(pers, std::chrono::seconds(30), drain_atom::value)
      .receive([](bool) {}, [&](caf::error& err) { log_error("shutdown: final flush failed: " + sys.render(err)); });
    for (auto& s : subs)
      self->send_exit(s, caf::exit_reason::user_shutdown);
    for (auto& a : {acceptor, rtr, pers, mon})
      self->send_exit(a, caf::exit_reason::user_shutdown);
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
  return run(*cfg);
}
