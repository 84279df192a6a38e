#include "tests/support/http_client.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace volley::test {

namespace http = boost::beast::http;

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has(const http_headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return lowercase(h.first) == lowercase(name); });
}

int milliseconds_left(std::chrono::steady_clock::time_point deadline) {
  auto left =
    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

} // namespace

std::string http_reply::header(std::string_view name) const {
  const auto wanted = lowercase(name);
  for (const auto& [key, value] : headers)
    if (key == wanted)
      return value;
  return {};
}

bool http_reply::has_header(std::string_view name) const {
  const auto wanted = lowercase(name);
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return h.first == wanted; });
}

std::string http_request_text(const std::string& method, const std::string& target, const std::string& body,
                              const http_headers& headers) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!has(headers, "host"))
    out += "Host: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers)
    out += name + ": " + value + "\r\n";
  const bool wants_length = !body.empty() || method == "POST" || method == "PUT";
  if (wants_length && !has(headers, "content-length") && !has(headers, "transfer-encoding"))
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

http_client::http_client(uint16_t port) : socket_(port, "http client") {}

void http_client::close() { socket_.close(); }

void http_client::send_raw(const std::string& bytes) { socket_.send_all(bytes); }

http_reply http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                const http_headers& headers, std::chrono::milliseconds timeout) {
  send_raw(http_request_text(method, target, body, headers));
  auto reply = read_reply(timeout);
  if (!reply)
    throw std::runtime_error("http client: no reply to " + method + " " + target +
                             (ended_ ? " (the server closed the connection)" : " in time"));
  return *reply;
}

bool http_client::receive_some(std::chrono::steady_clock::time_point deadline) {
  if (ended_ || socket_.fd() < 0)
    return false;
  pollfd p{socket_.fd(), POLLIN, 0};
  if (::poll(&p, 1, milliseconds_left(deadline)) <= 0)
    return false;
  char chunk[65536];
  auto n = ::recv(socket_.fd(), chunk, sizeof(chunk), 0);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      return true;
    ended_ = true; // end of stream, or a reset
    return false;
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::optional<http_reply> http_client::take_reply() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(true);
  size_t used = 0;
  boost::system::error_code ec;
  while (used < buffer_.size() && !parser.is_done()) {
    auto n = parser.put(boost::asio::buffer(buffer_.data() + used, buffer_.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      if (n == 0)
        break;
    } else if (ec) {
      throw std::runtime_error("http client: malformed reply: " + ec.message());
    }
  }
  if (!parser.is_done() && ended_ && parser.is_header_done()) {
    parser.put_eof(ec); // a body that runs to the end of the connection
    if (ec)
      return std::nullopt;
  }
  if (!parser.is_done())
    return std::nullopt;
  buffer_.erase(0, used);
  auto message = parser.release();
  http_reply reply;
  reply.status = static_cast<int>(message.result_int());
  for (const auto& field : message)
    reply.headers.emplace_back(lowercase({field.name_string().data(), field.name_string().size()}),
                               std::string(field.value()));
  reply.body = std::move(message.body());
  return reply;
}

std::optional<http_reply> http_client::read_reply(std::chrono::milliseconds timeout, bool interim) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto reply = take_reply();
    if (reply && (reply->status >= 200 || interim))
      return reply;
    if (reply)
      continue; // 1xx: the final reply follows
    if (!receive_some(deadline)) {
      if (ended_)
        if (auto last = take_reply(); last && (last->status >= 200 || interim))
          return last;
      if (ended_ || std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
    }
  }
}

http_client::upload_result http_client::upload(const std::string& head, uint64_t body_bytes,
                                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  upload_result result;
  send_raw(head);
  const std::string filler(64 * 1024, 'x');
  bool can_send = true;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto reply = take_reply(); reply && reply->status >= 200) {
      result.reply = std::move(reply);
      return result;
    }
    if (ended_)
      return result;
    const bool sending = can_send && result.body_bytes_sent < body_bytes;
    pollfd p{socket_.fd(), static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, milliseconds_left(deadline)) <= 0)
      continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      receive_some(deadline);
      continue; // look for a reply before sending more
    }
    if (sending && (p.revents & POLLOUT)) {
      const auto want = std::min<uint64_t>(filler.size(), body_bytes - result.body_bytes_sent);
      auto n = ::send(socket_.fd(), filler.data(), static_cast<size_t>(want), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        result.body_bytes_sent += static_cast<uint64_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        can_send = false; // the server closed its side; its reply may still be readable
    }
  }
  return result;
}

bool http_client::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ended_) {
    buffer_.clear();
    if (!receive_some(deadline) && !ended_)
      return false;
  }
  return true;
}

} // namespace volley::test
