#pragma once
// What a store read answers: the value, or why it could not be read. A
// failed read must never look like an empty answer ("nothing pending").

#include <optional>
#include <string>
#include <utility>

namespace volley {

template <class T>
class read_result {
public:
  read_result(T value) : value_(std::move(value)) {}

  static read_result failure(std::string error) {
    read_result r;
    r.error_ = std::move(error);
    return r;
  }

  explicit operator bool() const { return value_.has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  // Empty when the read succeeded.
  const std::string& error() const { return error_; }

private:
  read_result() = default;
  std::optional<T> value_;
  std::string error_;
};

} // namespace volley
