#include "api/http_server.hpp"

#include "api/http_connection.hpp"
#include "logging/logger.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <cerrno>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace volley {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Out of descriptors or memory: accepting again at once would spin.
bool out_of_resources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

std::string refusal_for(size_t max_connections) {
  const std::string body = "{\"error\":\"too many connections: this server already holds " +
                           std::to_string(max_connections) + " (api.max_connections); retry shortly\"}";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

struct http_server::impl {
  std::shared_ptr<http_server_shared> shared_;
  asio::io_context io_;
  // Keeps the threads running while answers are owed and nothing else is
  // pending (as during stop's grace, with the listener closed).
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::strand<asio::io_context::executor_type> accept_strand_{io_.get_executor()};
  tcp::acceptor acceptor_{accept_strand_};
  asio::steady_timer accept_pause_{accept_strand_};
  const std::string refusal_;
  uint16_t port_ = 0;
  uint64_t next_id_ = 0;      // on the accept strand
  bool pause_logged_ = false; // on the accept strand
  std::vector<std::thread> threads_;
  std::mutex stop_mutex_;
  bool stopped_ = false;

  impl(http_server_options options, route_table routes)
    : shared_(std::make_shared<http_server_shared>(std::move(options), std::move(routes))),
      io_(static_cast<int>(std::max(1u, shared_->options.threads))),
      refusal_(refusal_for(shared_->options.max_connections)) {
    const auto& opts = shared_->options;
    const std::string where = opts.host + ":" + std::to_string(opts.port);
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(opts.host, std::to_string(opts.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || endpoints.empty())
      throw std::runtime_error("http api: cannot resolve api.host \"" + opts.host + "\": " + ec.message() +
                               " (give an IP address such as 127.0.0.1)");
    const tcp::endpoint endpoint = *endpoints.begin();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(endpoint, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("http api: cannot listen on " + where + " (api.host, api.port): " +
                               ec.message() + " (is another process using the port? choose another)");
    port_ = acceptor_.local_endpoint().port();
    warn_if_descriptors_short();

    asio::post(accept_strand_, [this] { accept(); });
    const unsigned count = std::max(1u, opts.threads);
    for (unsigned i = 0; i < count; ++i)
      threads_.emplace_back([this] { run(); });
  }

  ~impl() { stop(std::chrono::milliseconds(0)); }

  void warn_if_descriptors_short() const {
    rlimit limit{};
    const auto wanted = shared_->options.max_connections + 64;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
      log_warn("http api: api.max_connections is " + std::to_string(shared_->options.max_connections) +
               " but this process may open only " + std::to_string(limit.rlim_cur) +
               " files (ulimit -n); beyond that, new connections wait in the kernel's queue. "
               "Raise the limit (LimitNOFILE= in systemd) or lower api.max_connections");
  }

  void run() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // Only the connection whose step threw is lost; keep serving.
        log_error(std::string("http api: a connection failed: ") + e.what());
      }
    }
  }

  void accept() {
    acceptor_.async_accept(
      asio::make_strand(io_),
      [this](const boost::system::error_code& ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
  }

  void on_accept(const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open())
      return;
    if (ec) {
      if (!out_of_resources(ec)) {
        accept(); // the client gave up before we took it: nothing wrong here
        return;
      }
      if (!pause_logged_)
        log_warn("http api on port " + std::to_string(port_) + ": cannot accept connections: " +
                 ec.message() + "; retrying every 100 ms (raise ulimit -n, or lower api.max_connections)");
      pause_logged_ = true;
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec)
          accept();
      });
      return;
    }
    pause_logged_ = false;
    ++shared_->accepted;
    if (shared_->open() >= shared_->options.max_connections) {
      refuse(socket);
    } else {
      const uint64_t id = next_id_++;
      auto connection = std::make_shared<http_connection>(shared_, std::move(socket), id);
      if (shared_->add(id, connection))
        connection->start();
    }
    accept();
  }

  // Answers 503 at once and closes: the client learns why instead of
  // waiting in the kernel's queue for a slot, and the queue keeps moving.
  // One non-blocking write of a few hundred bytes always fits a fresh socket.
  void refuse(tcp::socket& socket) {
    ++shared_->refused;
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(refusal_), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    // Input left unread would turn the close into a reset, which can
    // destroy the answer on its way; take what has arrived.
    char scratch[4096];
    for (int i = 0; i < 16 && !ec; ++i)
      socket.read_some(asio::buffer(scratch), ec);
    socket.close(ec);
  }

  void stop(std::chrono::milliseconds grace) {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_)
      return;
    stopped_ = true;
    auto alive = shared_->begin_stop();
    asio::post(accept_strand_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      accept_pause_.cancel();
    });
    for (auto& connection : alive)
      connection->drain();
    alive.clear();
    if (grace.count() > 0)
      shared_->wait_all_closed(grace);
    {
      // No answer may be posted from now on: the io_context is going away.
      std::lock_guard<std::mutex> gate(shared_->gate_mutex);
      shared_->gate_open = false;
    }
    io_.stop();
    for (auto& thread : threads_)
      thread.join();
    threads_.clear();
    // Connections still owing answers keep themselves alive; free them now,
    // while the io_context their sockets belong to still exists.
    for (auto& connection : shared_->remaining())
      connection->abandon();
    boost::system::error_code ec;
    acceptor_.close(ec);
  }
};

http_server::http_server(http_server_options options, route_table routes)
  : impl_(std::make_unique<impl>(std::move(options), std::move(routes))) {}

http_server::~http_server() { stop(); }

uint16_t http_server::port() const { return impl_->port_; }

http_server_stats http_server::stats() const {
  const auto& shared = *impl_->shared_;
  http_server_stats out;
  out.connections_open = shared.open();
  out.connections_accepted = shared.accepted.load();
  out.connections_refused = shared.refused.load();
  out.requests = shared.requests.load();
  out.rejected = shared.rejected.load();
  return out;
}

void http_server::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

} // namespace volley
