#pragma once
// Cuts a byte stream into '\n'-terminated lines without copying each line.

#include <string>
#include <string_view>

namespace volley::cli {

class line_splitter {
public:
  void append(const char* data, size_t size) { buffer_.append(data, size); }

  // Calls `on_line(std::string_view)` for every complete line (without its
  // '\n') and forgets them; a trailing partial line stays buffered.
  template <class OnLine>
  void drain(OnLine&& on_line) {
    size_t start = 0;
    for (size_t newline; (newline = buffer_.find('\n', start)) != std::string::npos; start = newline + 1)
      on_line(std::string_view(buffer_).substr(start, newline - start));
    buffer_.erase(0, start);
  }

  // The unterminated rest, e.g. a last line without '\n' at end of input.
  const std::string& remainder() const { return buffer_; }
  void clear() { buffer_.clear(); }

private:
  std::string buffer_;
};

} // namespace volley::cli
