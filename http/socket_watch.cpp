#include "http/socket_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace volley {

socket_watch::socket_watch() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0)
    throw std::runtime_error(std::string{"HTTP engine: cannot create an epoll set: "} + std::strerror(errno));
}

socket_watch::~socket_watch() { ::close(epoll_fd_); }

socket_watch::entry& socket_watch::at(int fd) {
  auto i = static_cast<size_t>(fd);
  if (i >= entries_.size())
    entries_.resize(i + 1024);
  return entries_[i];
}

void socket_watch::set(int fd, entry& e, uint32_t events) {
  if (e.registered == events)
    return;
  epoll_event ev{};
  ev.data.fd = fd;
  ev.events = events;
  int op = events == 0 ? EPOLL_CTL_DEL : e.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  ++syscalls_;
  if (epoll_ctl(epoll_fd_, op, fd, &ev) != 0 && op != EPOLL_CTL_DEL) {
    // A socket libcurl opened itself under an fd number the set still knew
    // (or forgot): the other operation.
    ++syscalls_;
    epoll_ctl(epoll_fd_, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  }
  e.registered = events;
}

void socket_watch::opened(int fd) {
  at(fd) = entry{0, true, nullptr};
  ++open_;
}

void socket_watch::closing(int fd) {
  // close() takes the socket out of the epoll set.
  auto& e = at(fd);
  if (e.ours)
    --open_;
  e = entry{};
}

void socket_watch::watch(int fd, uint32_t events, void* owner) {
  auto& e = at(fd);
  e.owner = owner;
  set(fd, e, events);
}

void socket_watch::unwatch(int fd) {
  auto& e = at(fd);
  e.owner = nullptr;
  if (!e.ours)
    set(fd, e, 0);
}

void* socket_watch::owner(int fd) const {
  auto i = static_cast<size_t>(fd);
  return i < entries_.size() ? entries_[i].owner : nullptr;
}

void socket_watch::drop(int fd) { set(fd, at(fd), 0); }

} // namespace volley
