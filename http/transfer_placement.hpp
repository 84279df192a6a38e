#pragma once
// Which of an engine thread's libcurl multi handles a transfer runs on.
//
// Each multi handle keeps its own connection cache, and libcurl 7.88's
// curl_multi_remove_handle walks every connection in its handle's cache on
// every completion (bench/README.md, "What changes bought"). So a thread
// runs at most `per_multi` transfers on one multi handle and opens more
// multi handles as transfers grow: a completion then costs a walk of at
// most `per_multi` connections, whatever the concurrency.
//
// Keep-alive connections are reused only within a multi handle, so the
// transfers to one origin (scheme://host:port) go where that origin went
// before, while there is room; a busy origin spreads over several handles.
// Plain logic: no libcurl in here.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace volley {

// "https://host:port" of a URL: what a connection is reused for.
std::string_view origin_of(std::string_view url);

class transfer_placement {
public:
  transfer_placement(size_t per_multi, size_t max_multis);

  // The multi handle for a new transfer to `origin`, counted as running
  // there. An index equal to the handles opened so far means "open one
  // more". Call only while fewer than per_multi * max_multis run.
  size_t place(std::string_view origin);
  // A transfer on `multi` ended.
  void release(size_t multi) { --running_[multi]; }

  size_t running(size_t multi) const { return running_[multi]; }
  size_t multis() const { return running_.size(); }
  size_t per_multi() const { return per_multi_; }

private:
  size_t per_multi_;
  size_t max_multis_;
  std::vector<size_t> running_; // per multi handle
  // Origin (by hash: a collision only costs some reuse) -> the handles it
  // used, in the order it used them.
  std::unordered_map<uint64_t, std::vector<size_t>> origins_;
};

} // namespace volley
