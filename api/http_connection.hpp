#pragma once
// One client connection of the HTTP API server (internal to http_server):
// reads requests, pipelined up to a limit, hands each to its handler and
// writes the answers in request order. Everything it does runs on its own
// strand; answers given on other threads are posted onto it.
//
// Cost of an idle connection: the socket, two timers and this object (a few
// hundred bytes); the parser and read buffer exist only while a request is
// being read.

#include "api/bearer_token.hpp"
#include "api/http_server.hpp"
#include "api/request_target.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace volley {

class http_connection;

// What connections share with their server.
struct http_server_shared {
  http_server_shared(http_server_options opts, route_table table)
    : options(std::move(opts)), routes(std::move(table)), token(options.token) {}

  const http_server_options options;
  const route_table routes;
  const bearer_token token;

  // Answers are posted onto a connection's strand only while the gate is
  // open; stop() closes it before the io_context goes away.
  std::mutex gate_mutex;
  bool gate_open = true;

  std::atomic<uint64_t> accepted{0}, refused{0}, requests{0}, rejected{0};

  // Adds a live connection; false once stopping.
  bool add(uint64_t id, const std::shared_ptr<http_connection>& connection);
  void remove(uint64_t id);
  uint64_t open() const;
  // Marks the server stopping and returns the connections still alive.
  std::vector<std::shared_ptr<http_connection>> begin_stop();
  // Waits until every connection has closed or `timeout` passed.
  void wait_all_closed(std::chrono::milliseconds timeout);
  // The connections still registered (for abandon() once threads are joined).
  std::vector<std::shared_ptr<http_connection>> remaining();

private:
  mutable std::mutex registry_mutex_;
  std::condition_variable all_closed_;
  bool stopping_ = false;
  std::unordered_map<uint64_t, std::weak_ptr<http_connection>> connections_;
};

class http_connection : public std::enable_shared_from_this<http_connection> {
public:
  using tcp = boost::asio::ip::tcp;

  // `socket` must run on a strand of its own.
  http_connection(std::shared_ptr<http_server_shared> shared, tcp::socket socket, uint64_t id);
  ~http_connection();

  // Each posts onto the connection's strand; callable from any thread.
  void start();
  void drain(); // read no new request; close once what is owed is written
  void close();
  // Only once the server's threads are joined: lets go of the reference
  // that keeps a connection alive while it owes answers.
  void abandon() { owed_self_.reset(); }

private:
  using message = boost::beast::http::response<boost::beast::http::string_body>;
  using parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  // Where reading stands. Reads and writes run side by side.
  enum class reading { waiting, header, body, paused, done };

  // One answer owed, in request order.
  struct slot {
    uint64_t seq = 0;
    unsigned version = 11;         // the request's, for the status line
    bool close = false;            // the connection ends after this answer
    std::optional<message> answer; // set once known; a 100 Continue is one too
  };

  // The request being read: exists from its first byte to its dispatch.
  struct incoming {
    parser request;
    request_target target;
    route_match route;
  };

  void wait_for_request();
  void on_readable(const boost::system::error_code& ec);
  void read_header();
  void on_header(const boost::system::error_code& ec);
  void read_body();
  void on_body(const boost::system::error_code& ec);
  // The common end of a read: false when the connection is closed or the
  // read failed (then already answered or closed).
  bool read_succeeded(const boost::system::error_code& ec);
  void on_read_error(const boost::system::error_code& ec);
  void dispatch();
  responder make_responder(uint64_t seq);

  // An answer the server gives itself before any handler runs. When the
  // request's body was not read, the connection must end after it.
  void reject(int status, const std::string& error,
              std::vector<std::pair<std::string, std::string>> headers = {});
  // An error answer after which the connection ends.
  void fail(int status, const std::string& error,
            std::vector<std::pair<std::string, std::string>> headers = {});
  void stop_reading();

  uint64_t push_slot(unsigned version, bool close, std::optional<message> answer);
  void on_answer(uint64_t seq, api_response response);
  void maybe_write();
  void on_written(const boost::system::error_code& ec);

  void arm_read_timer(uint32_t ms);
  void cancel_read_timer();
  void on_read_timer(uint64_t generation);

  void linger_then_close();
  void discard_input();
  void close_now();

  std::shared_ptr<http_server_shared> shared_;
  tcp::socket socket_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  const uint64_t id_;
  tcp::endpoint peer_;

  boost::beast::flat_buffer buffer_;
  std::unique_ptr<incoming> incoming_;
  std::list<slot> slots_; // a list: the answer being written must not move
  // Set while answers are owed: then no read may be pending (a request
  // with Connection: close, a full pipeline), and a responder holds only a
  // weak reference, as it may outlive the server.
  std::shared_ptr<http_connection> owed_self_;
  uint64_t next_seq_ = 0;
  uint64_t read_timer_generation_ = 0;  // a timer's handler may already be queued
  uint64_t write_timer_generation_ = 0; // when it is cancelled: these tell it apart

  reading reading_ = reading::waiting;
  bool first_request_ = true;
  bool read_timed_out_ = false;
  bool writing_ = false;
  bool draining_ = false;
  bool lingering_ = false;
  bool closed_ = false;
};

} // namespace volley
