#include "receiver/http_receiver.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace volley {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Large enough for any webhook body; beyond it the peer gets 413.
constexpr uint64_t max_body_bytes = 16 * 1024 * 1024;

// Beast 1.74 speaks boost::string_view.
std::string_view to_std(boost::beast::string_view text) { return {text.data(), text.size()}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

received_request to_received(const http::request<http::string_body>& request) {
  received_request out;
  out.method = std::string(request.method_string());
  out.target = std::string(request.target());
  for (const auto& field : request)
    out.headers.emplace_back(lowercase(to_std(field.name_string())), std::string(field.value()));
  out.body = request.body();
  return out;
}

http::response<http::string_body> to_response(const receiver_reply& reply, unsigned version,
                                              bool keep_alive) {
  http::response<http::string_body> response;
  response.version(version);
  // Beast rejects codes outside 100..999; 1xx would confuse clients waiting
  // for a final answer, so anything odd becomes a visible 500.
  const bool valid = reply.status >= 200 && reply.status <= 999;
  response.result(valid ? static_cast<unsigned>(reply.status) : 500u);
  for (const auto& [name, value] : reply.headers)
    response.insert(name, value);
  const bool body_allowed = response.result_int() != 204 && response.result_int() != 304;
  if (body_allowed)
    response.body() = valid ? reply.body : "invalid status from handler\n";
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

} // namespace

std::string received_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name))
      return value;
  return {};
}

struct http_receiver::impl {
  // A live connection: its socket's descriptor (for stop() to shut it down)
  // and the thread serving it.
  struct connection {
    int fd = -1;
    std::thread thread;
  };

  receiver_handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread accept_thread_;

  std::mutex stop_mutex_; // serialises concurrent stop() calls
  std::mutex mutex_;      // guards everything below
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::map<uint64_t, connection> connections_;
  std::vector<std::thread> finished_; // exited (or exiting) threads, to join

  impl(receiver_handler handler, uint16_t port) : handler_(std::move(handler)) {
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(endpoint, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("http receiver: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                               ec.message() + " (is another process using the port? choose another one)");
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  void accept_loop() {
    for (;;) {
      join_finished();
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_)
        return; // the socket, if any, closes on scope exit
      if (ec) {
        // Out of descriptors and the like: the receiver cannot go on
        // silently, so say why it stopped accepting.
        std::fprintf(stderr, "http receiver on 127.0.0.1:%u stopped accepting: %s\n",
                     static_cast<unsigned>(port_), ec.message().c_str());
        return;
      }
      start_connection(std::move(socket));
    }
  }

  // Called with mutex_ held, so the new thread cannot deregister itself
  // before it is registered.
  void start_connection(tcp::socket socket) {
    const uint64_t id = next_id_++;
    const int fd = socket.native_handle();
    try {
      std::thread thread([this, id, s = std::move(socket)]() mutable { serve(id, s); });
      connections_[id] = connection{fd, std::move(thread)};
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "http receiver on 127.0.0.1:%u: cannot start a connection thread: %s\n",
                   static_cast<unsigned>(port_), e.what());
    }
  }

  void join_finished() {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done.swap(finished_);
    }
    for (auto& thread : done)
      thread.join();
  }

  void serve(uint64_t id, tcp::socket& socket) {
    try {
      serve_requests(socket);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http receiver on 127.0.0.1:%u: connection failed: %s\n",
                   static_cast<unsigned>(port_), e.what());
    }
    // Deregister before closing: stop() must never shut down a descriptor
    // number that has been closed and possibly reused.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = connections_.find(id);
      if (it != connections_.end()) {
        if (it->second.thread.joinable())
          finished_.push_back(std::move(it->second.thread));
        connections_.erase(it);
      }
    }
    boost::system::error_code ignored;
    socket.close(ignored);
  }

  // The keep-alive loop of one connection. Returns when the peer closes,
  // on a protocol error, or when stop() shuts the socket down.
  void serve_requests(tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(max_body_bytes);
      boost::system::error_code ec;
      http::read_header(socket, buffer, parser, ec);
      if (!ec && !parser.is_done() && expects_continue(parser.get())) {
        // Clients such as curl hold large bodies back (for a second) until
        // they see "100 Continue".
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        http::write(socket, go_on, ec);
      }
      if (!ec)
        http::read(socket, buffer, parser, ec);
      if (ec == http::error::body_limit) {
        write_error(socket, http::status::payload_too_large, "request body over 16 MiB\n");
        return;
      }
      if (ec == http::error::end_of_stream || ec == asio::error::eof)
        return;
      if (ec) {
        if (parser.got_some() && !is_disconnect(ec))
          write_error(socket, http::status::bad_request, "malformed HTTP request\n");
        return;
      }
      const auto& request = parser.get();
      receiver_reply reply = call_handler(to_received(request));
      if (reply.reset) {
        // SO_LINGER 0 makes close() send RST instead of FIN.
        socket.set_option(asio::socket_base::linger(true, 0), ec);
        return;
      }
      if (reply.hang) {
        hold_until_closed(socket);
        return;
      }
      auto response = to_response(reply, request.version(), request.keep_alive());
      http::write(socket, response, ec);
      if (ec || response.need_eof()) {
        socket.shutdown(tcp::socket::shutdown_send, ec);
        return;
      }
    }
  }

  receiver_reply call_handler(const received_request& request) {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      receiver_reply reply;
      reply.status = 500;
      reply.body = std::string("receiver handler failed: ") + e.what() + "\n";
      return reply;
    }
  }

  static bool expects_continue(const http::request<http::string_body>& request) {
    return request.version() >= 11 && iequals(to_std(request[http::field::expect]), "100-continue");
  }

  static bool is_disconnect(const boost::system::error_code& ec) {
    return ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == asio::error::eof ||
           ec == asio::error::shut_down;
  }

  static void write_error(tcp::socket& socket, http::status status, const char* body) {
    http::response<http::string_body> response{status, 11};
    response.body() = body;
    response.keep_alive(false);
    response.prepare_payload();
    boost::system::error_code ec;
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  // Never answers: reads (and drops) until the peer gives up or stop()
  // shuts the socket down. Reading rather than waiting frees the thread as
  // soon as the client times out.
  static void hold_until_closed(tcp::socket& socket) {
    char scratch[4096];
    boost::system::error_code ec;
    while (!ec)
      socket.read_some(asio::buffer(scratch), ec);
  }

  void stop() {
    std::lock_guard<std::mutex> stop_lock(stop_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_)
        return;
      stopping_ = true;
    }
    // shutdown() (unlike close()) wakes a thread blocked in accept()/recv()
    // on Linux and keeps the descriptor valid until its owner closes it.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (accept_thread_.joinable())
      accept_thread_.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);

    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [id, conn] : connections_) {
        ::shutdown(conn.fd, SHUT_RDWR);
        if (conn.thread.joinable())
          threads.push_back(std::move(conn.thread));
      }
      for (auto& thread : finished_)
        threads.push_back(std::move(thread));
      finished_.clear();
    }
    for (auto& thread : threads)
      thread.join();
  }
};

http_receiver::http_receiver(receiver_handler handler, uint16_t port)
  : impl_(std::make_unique<impl>(std::move(handler), port)) {}

http_receiver::~http_receiver() { stop(); }

uint16_t http_receiver::port() const { return impl_->port_; }

void http_receiver::stop() { impl_->stop(); }

} // namespace volley
