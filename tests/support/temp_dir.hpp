#pragma once
// A fresh directory under /tmp, removed with everything in it at scope end.

#include <string>

namespace volley::test {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// Writes `text` to `path` (truncating).
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

} // namespace volley::test
