#pragma once
// The sockets libcurl asks an engine thread to watch, in one epoll set.
//
// libcurl (CURLMOPT_SOCKETFUNCTION) says "watch this socket for IN/OUT" and
// "stop watching it" as a transfer moves; a keep-alive connection is
// unwatched when its transfer ends and watched again when the next one
// starts on it. Doing each as an epoll_ctl costs syscalls per request, so a
// socket the engine opened itself (and will close itself, so it knows when
// the kernel forgets it) stays registered while it idles: reusing it costs
// no syscall. Should an idle one become ready (the peer closed it), the
// loop sees it has no owner and drops it. Sockets libcurl opens on its own
// (a resolver's) are registered and removed as asked.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace volley {

class socket_watch {
public:
  socket_watch();
  ~socket_watch();
  socket_watch(const socket_watch&) = delete;
  socket_watch& operator=(const socket_watch&) = delete;

  int epoll_fd() const { return epoll_fd_; }

  // A socket the engine just opened / is about to close.
  void opened(int fd);
  void closing(int fd);

  // libcurl wants `fd` watched for `events` (EPOLLIN/EPOLLOUT) on behalf of
  // `owner` (the multi handle it belongs to).
  void watch(int fd, uint32_t events, void* owner);
  // libcurl no longer wants `fd` watched.
  void unwatch(int fd);
  // Who wants `fd` now; nullptr: nobody (call drop).
  void* owner(int fd) const;
  // Ready but unwanted: remove it from the set.
  void drop(int fd);

  // Sockets the engine opened and has not closed yet.
  size_t open() const { return open_; }

  // epoll_ctl calls made so far (the bench's syscall count).
  uint64_t syscalls() const { return syscalls_; }

private:
  struct entry {
    uint32_t registered = 0; // events in the epoll set; 0: not in it
    bool ours = false;       // opened and closed by the engine
    void* owner = nullptr;
  };
  entry& at(int fd);
  void set(int fd, entry& e, uint32_t events);

  int epoll_fd_;
  std::vector<entry> entries_; // by fd
  uint64_t syscalls_ = 0;
  size_t open_ = 0;
};

} // namespace volley
