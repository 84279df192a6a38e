#include "api/http_connection.hpp"

#include "logging/logger.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <limits>

namespace volley {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

// Beast 1.74 speaks boost::string_view.
std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Request text echoed in an error: non-printable bytes as %XX, so the JSON
// stays valid UTF-8 and the log line stays one line.
std::string printable(std::string_view text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text.substr(0, 200)) {
    if (c > 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool header_value_ok(std::string_view value) { return value.find_first_of("\r\n") == std::string_view::npos; }

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected || ec == asio::error::operation_aborted;
}

} // namespace

// ---- http_server_shared ----------------------------------------------------

bool http_server_shared::add(uint64_t id, const std::shared_ptr<http_connection>& connection) {
  std::lock_guard<std::mutex> lock(registry_mutex_);
  if (stopping_)
    return false;
  connections_.emplace(id, connection);
  return true;
}

void http_server_shared::remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(registry_mutex_);
  if (connections_.erase(id) && connections_.empty())
    all_closed_.notify_all();
}

uint64_t http_server_shared::open() const {
  std::lock_guard<std::mutex> lock(registry_mutex_);
  return connections_.size();
}

std::vector<std::shared_ptr<http_connection>> http_server_shared::begin_stop() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    stopping_ = true;
  }
  return remaining();
}

std::vector<std::shared_ptr<http_connection>> http_server_shared::remaining() {
  std::lock_guard<std::mutex> lock(registry_mutex_);
  std::vector<std::shared_ptr<http_connection>> alive;
  for (auto& [id, weak] : connections_)
    if (auto connection = weak.lock())
      alive.push_back(std::move(connection));
  return alive;
}

void http_server_shared::wait_all_closed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(registry_mutex_);
  all_closed_.wait_for(lock, timeout, [this] { return connections_.empty(); });
}

// ---- http_connection -------------------------------------------------------

http_connection::http_connection(std::shared_ptr<http_server_shared> shared, tcp::socket socket, uint64_t id)
  : shared_(std::move(shared)), socket_(std::move(socket)), read_timer_(socket_.get_executor()),
    write_timer_(socket_.get_executor()), id_(id),
    // Room for a whole header plus one read's worth of what follows it.
    buffer_(shared_->options.max_header_bytes + 64 * 1024) {
  boost::system::error_code ec;
  peer_ = socket_.remote_endpoint(ec);
  socket_.set_option(tcp::no_delay(true), ec);
}

http_connection::~http_connection() {
  // Normally close_now() did this; not when an exception tore a handler
  // chain down or the server stopped with this connection still open.
  if (!closed_)
    shared_->remove(id_);
}

void http_connection::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
}

void http_connection::close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void http_connection::drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_)
      return;
    self->draining_ = true;
    switch (self->reading_) {
      case reading::waiting:
        if (self->slots_.empty()) {
          self->close_now();
        } else {
          // Done reading, so the last answer says "Connection: close"; the
          // shutdown wakes the wait for input without touching a write.
          self->reading_ = reading::done;
          boost::system::error_code ec;
          self->socket_.shutdown(tcp::socket::shutdown_receive, ec);
        }
        break;
      case reading::paused:
        self->reading_ = reading::done;
        break;
      case reading::header:
      case reading::body:
        break; // the request being received is still answered
      case reading::done:
        break;
    }
  });
}

// ---- reading ----------------------------------------------------------------

void http_connection::wait_for_request() {
  if (closed_)
    return;
  if (draining_) {
    stop_reading();
    return;
  }
  if (slots_.size() >= shared_->options.max_pipelined) {
    reading_ = reading::paused;
    return;
  }
  if (buffer_.size() > 0) { // the next request arrived with the last one
    read_header();
    return;
  }
  reading_ = reading::waiting;
  buffer_.shrink_to_fit(); // an idle connection holds no buffer
  if (slots_.empty())
    arm_read_timer(first_request_ ? shared_->options.header_timeout_ms : shared_->options.idle_timeout_ms);
  socket_.async_wait(
    tcp::socket::wait_read,
    [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void http_connection::on_readable(const boost::system::error_code& ec) {
  if (closed_)
    return;
  if (reading_ == reading::done) {
    // drain() woke this wait; the read timer may be lingering's by now.
    if (slots_.empty())
      linger_then_close();
    return;
  }
  cancel_read_timer();
  if (ec) {
    close_now();
    return;
  }
  read_header();
}

void http_connection::read_header() {
  reading_ = reading::header;
  first_request_ = false;
  incoming_ = std::make_unique<incoming>();
  incoming_->request.header_limit(shared_->options.max_header_bytes);
  // No body limit yet: an oversize body is answered after the checks on
  // the header, so that an unauthenticated client learns nothing more.
  // (Not boost::none: Beast 1.74 compares a length against it as 0.)
  incoming_->request.body_limit(std::numeric_limits<std::uint64_t>::max());
  arm_read_timer(shared_->options.header_timeout_ms);
  http::async_read_header(
    socket_, buffer_, incoming_->request,
    [self = shared_from_this()](const boost::system::error_code& ec, size_t) { self->on_header(ec); });
}

bool http_connection::read_succeeded(const boost::system::error_code& ec) {
  if (closed_)
    return false;
  cancel_read_timer();
  if (ec)
    on_read_error(ec);
  return !ec;
}

void http_connection::on_header(const boost::system::error_code& ec) {
  if (!read_succeeded(ec))
    return;
  auto& in = *incoming_;
  const auto& request = in.request.get();
  const auto& options = shared_->options;

  // Routed first so that an open route (the dashboard's page) is served
  // without the token; everything else, unknown paths included, is
  // answered 401 before it says anything more.
  std::string error;
  auto target = parse_request_target(to_std(request.target()), error);
  const auto method = to_std(request.method_string());
  if (target)
    in.route = shared_->routes.match(method, target->segments);
  const bool open =
    target && in.route.outcome == route_match::result::found && in.route.access == route_access::open;

  auto authorization = request.find(http::field::authorization);
  if (!open && !shared_->token.accepts(authorization == request.end()
                                         ? std::nullopt
                                         : std::optional<std::string_view>(to_std(authorization->value())))) {
    const bool given = authorization != request.end();
    reject(401,
           given ? "the bearer token is not valid for this server (api.token): send "
                   "\"Authorization: Bearer <token>\" with the configured token"
                 : "authentication required: send \"Authorization: Bearer <token>\" with the "
                   "token configured as api.token",
           {{"WWW-Authenticate",
             given ? "Bearer realm=\"volley\", error=\"invalid_token\"" : "Bearer realm=\"volley\""}});
    return;
  }

  if (!target) {
    reject(400, error + ": " + printable(to_std(request.target())));
    return;
  }
  in.target = std::move(*target);
  if (in.route.outcome == route_match::result::no_such_path) {
    reject(404, "no such endpoint: " + printable(method) + " " + printable(in.target.path));
    return;
  }
  if (in.route.outcome == route_match::result::method_not_allowed) {
    std::string allowed;
    for (const auto& m : in.route.allowed)
      allowed += (allowed.empty() ? "" : ", ") + m;
    reject(405,
           "method " + printable(method) + " not allowed on " + printable(in.target.path) +
             " (allowed: " + allowed + ")",
           {{"Allow", allowed}});
    return;
  }

  // RFC 9112 6.3: a request whose transfer coding does not end in chunked
  // has no knowable length; Beast 1.74 would read it as bodiless.
  if (request.count(http::field::transfer_encoding) && !in.request.chunked()) {
    fail(400, "malformed HTTP request: Transfer-Encoding must end in chunked");
    return;
  }
  auto length = in.request.content_length();
  if (length && *length > options.max_body_bytes) {
    fail(413, "request body of " + std::to_string(*length) + " bytes is over the limit of " +
                std::to_string(options.max_body_bytes) +
                " bytes (api.max_body_bytes): send less per request");
    return;
  }
  if (!in.request.is_done() && request.version() >= 11) {
    auto expect = request.find(http::field::expect);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue"))
      push_slot(request.version(), false, message{http::status::continue_, request.version()});
  }
  read_body();
}

void http_connection::read_body() {
  reading_ = reading::body;
  if (incoming_->request.is_done()) {
    on_body({});
    return;
  }
  incoming_->request.body_limit(shared_->options.max_body_bytes);
  arm_read_timer(shared_->options.body_timeout_ms);
  http::async_read(
    socket_, buffer_, incoming_->request,
    [self = shared_from_this()](const boost::system::error_code& ec, size_t) { self->on_body(ec); });
}

void http_connection::on_body(const boost::system::error_code& ec) {
  if (read_succeeded(ec))
    dispatch();
}

void http_connection::on_read_error(const boost::system::error_code& ec) {
  const auto& options = shared_->options;
  const bool started = incoming_ && incoming_->request.got_some();
  if (read_timed_out_) {
    if (!started)
      stop_reading();
    else if (reading_ == reading::header)
      fail(408, "request header not complete within " + std::to_string(options.header_timeout_ms) +
                  " ms (api.header_timeout_ms)");
    else
      fail(408, "request body not complete within " + std::to_string(options.body_timeout_ms) +
                  " ms (api.body_timeout_ms)");
  } else if (ec == http::error::end_of_stream) {
    stop_reading(); // the client is done; answer what is owed, then close
  } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    fail(431,
         "request header over " + std::to_string(options.max_header_bytes) + " bytes (api.max_header_bytes)");
  } else if (ec == http::error::body_limit) {
    fail(413, "request body over the limit of " + std::to_string(options.max_body_bytes) +
                " bytes (api.max_body_bytes): send less per request");
  } else if (is_disconnect(ec)) {
    close_now(); // nobody left to answer
  } else {
    fail(400, "malformed HTTP request: " + ec.message());
  }
}

void http_connection::dispatch() {
  auto in = std::move(incoming_);
  auto request = in->request.release();
  api_request out;
  out.method = std::string(request.method_string());
  out.target = std::string(request.target());
  out.path = std::move(in->target.path);
  out.path_params = std::move(in->route.params);
  out.query = std::move(in->target.query);
  for (const auto& field : request)
    out.headers.emplace_back(lowercase(to_std(field.name_string())), std::string(field.value()));
  out.body = std::move(request.body());
  out.peer = peer_.address().to_string() + ":" + std::to_string(peer_.port());

  const bool keep_alive = request.keep_alive() && !draining_;
  const uint64_t seq = push_slot(request.version(), !keep_alive, std::nullopt);
  ++shared_->requests;
  responder answer = make_responder(seq);
  try {
    (*in->route.handler)(out, answer);
  } catch (const std::exception& e) {
    log_error("http api: the handler of " + printable(out.method) + " " + printable(out.path) +
              " failed: " + e.what());
    answer(api_response::error(500, std::string("internal error: ") + e.what()));
  }
  if (keep_alive)
    wait_for_request();
  else
    reading_ = reading::done;
}

responder http_connection::make_responder(uint64_t seq) {
  return responder([shared = shared_, weak = weak_from_this(), seq](api_response response) {
    std::lock_guard<std::mutex> lock(shared->gate_mutex);
    if (!shared->gate_open)
      return;
    auto self = weak.lock();
    if (!self)
      return; // the client is gone
    asio::post(self->socket_.get_executor(), [self, seq, response = std::move(response)]() mutable {
      self->on_answer(seq, std::move(response));
    });
  });
}

void http_connection::reject(int status, const std::string& error,
                             std::vector<std::pair<std::string, std::string>> headers) {
  const auto& request = incoming_->request;
  if (!request.is_done()) {
    // Its body is still on the wire: end the connection rather than read
    // what nobody will use.
    fail(status, error, std::move(headers));
    return;
  }
  ++shared_->rejected;
  auto response = api_response::error(status, error);
  response.headers = std::move(headers);
  const bool keep_alive = request.get().keep_alive() && !draining_;
  const uint64_t seq = push_slot(request.get().version(), !keep_alive, std::nullopt);
  incoming_.reset();
  on_answer(seq, std::move(response));
  if (keep_alive)
    wait_for_request();
  else
    reading_ = reading::done;
}

void http_connection::fail(int status, const std::string& error,
                           std::vector<std::pair<std::string, std::string>> headers) {
  ++shared_->rejected;
  const unsigned version =
    incoming_ && incoming_->request.is_header_done() ? incoming_->request.get().version() : 11;
  incoming_.reset();
  reading_ = reading::done;
  auto response = api_response::error(status, error);
  response.headers = std::move(headers);
  const uint64_t seq = push_slot(version, true, std::nullopt);
  on_answer(seq, std::move(response));
}

void http_connection::stop_reading() {
  incoming_.reset();
  reading_ = reading::done;
  if (slots_.empty())
    linger_then_close();
}

// ---- writing ----------------------------------------------------------------

uint64_t http_connection::push_slot(unsigned version, bool close, std::optional<message> answer) {
  slot s;
  s.seq = next_seq_++;
  s.version = version;
  s.close = close;
  s.answer = std::move(answer);
  slots_.push_back(std::move(s));
  if (!owed_self_)
    owed_self_ = shared_from_this();
  maybe_write();
  return slots_.back().seq;
}

void http_connection::on_answer(uint64_t seq, api_response response) {
  if (closed_)
    return;
  auto it = std::find_if(slots_.begin(), slots_.end(), [seq](const slot& s) { return s.seq == seq; });
  if (it == slots_.end() || it->answer)
    return;
  bool valid = response.status >= 200 && response.status <= 599;
  for (const auto& [name, value] : response.headers)
    valid = valid && !name.empty() && header_value_ok(name) && header_value_ok(value);
  valid = valid && header_value_ok(response.content_type);
  if (!valid) {
    log_error("http api: a handler answered with status " + std::to_string(response.status) +
              " or a header that cannot be sent; the client gets a 500");
    response = api_response::error(500, "internal error: the handler's answer could not be sent");
  }
  message m;
  m.version(it->version);
  m.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers)
    m.insert(name, value);
  const bool body_allowed = response.status != 204 && response.status != 304;
  if (body_allowed && !response.body.empty())
    m.set(http::field::content_type, response.content_type);
  if (body_allowed)
    m.body() = std::move(response.body);
  m.prepare_payload();
  it->answer = std::move(m);
  maybe_write();
}

void http_connection::maybe_write() {
  if (writing_ || closed_ || slots_.empty() || !slots_.front().answer)
    return;
  auto& s = slots_.front();
  const bool interim = s.answer->result_int() < 200;
  if (!interim) {
    // The last answer a connection will give says so.
    s.close = s.close || (reading_ == reading::done && slots_.size() == 1);
    s.answer->keep_alive(!s.close);
  }
  writing_ = true;
  const uint64_t generation = ++write_timer_generation_;
  write_timer_.expires_after(std::chrono::milliseconds(shared_->options.write_timeout_ms));
  write_timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    if (!ec && generation == self->write_timer_generation_)
      self->close_now(); // the client does not read its answers
  });
  http::async_write(
    socket_, *s.answer,
    [self = shared_from_this()](const boost::system::error_code& ec, size_t) { self->on_written(ec); });
}

void http_connection::on_written(const boost::system::error_code& ec) {
  writing_ = false;
  ++write_timer_generation_;
  write_timer_.cancel();
  if (closed_)
    return;
  if (ec) {
    close_now();
    return;
  }
  const bool last = slots_.front().close;
  slots_.pop_front();
  if (slots_.empty())
    owed_self_.reset(); // the write's handler holds this connection meanwhile
  if (last) {
    linger_then_close();
    return;
  }
  if (reading_ == reading::paused) {
    wait_for_request();
  } else if (slots_.empty() && reading_ == reading::done) {
    linger_then_close();
    return;
  } else if (slots_.empty() && reading_ == reading::waiting) {
    arm_read_timer(shared_->options.idle_timeout_ms);
  }
  maybe_write();
}

// ---- timers and closing -------------------------------------------------------

void http_connection::arm_read_timer(uint32_t ms) {
  const uint64_t generation = ++read_timer_generation_;
  read_timer_.expires_after(std::chrono::milliseconds(ms));
  read_timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    if (!ec)
      self->on_read_timer(generation);
  });
}

void http_connection::cancel_read_timer() {
  // A handler already queued still runs; the generation tells it apart.
  ++read_timer_generation_;
  read_timer_.cancel();
}

void http_connection::on_read_timer(uint64_t generation) {
  if (closed_ || generation != read_timer_generation_)
    return;
  if (lingering_ || reading_ == reading::waiting) {
    close_now();
    return;
  }
  // Ends the pending read (it sees end of input) without cancelling a
  // write that may be under way; the read's handler then answers 408.
  read_timed_out_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_receive, ec);
}

void http_connection::linger_then_close() {
  if (closed_ || lingering_)
    return;
  lingering_ = true;
  reading_ = reading::done;
  // FIN after the last answer, then read and drop what the client still
  // sends (for a bounded time): closing with unread input would reset the
  // connection and could destroy the answer before the client reads it.
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  arm_read_timer(shared_->options.linger_ms);
  discard_input();
}

void http_connection::discard_input() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                            if (self->closed_)
                              return;
                            if (ec)
                              self->close_now();
                            else
                              self->discard_input();
                          });
}

void http_connection::close_now() {
  if (closed_)
    return;
  closed_ = true;
  auto keep_until_return = std::move(owed_self_);
  ++read_timer_generation_;
  read_timer_.cancel();
  write_timer_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  incoming_.reset();
  shared_->remove(id_);
}

} // namespace volley
