#pragma once
// Result<T>: the return type of expected runtime failures (I/O, bad input files,
// network). A programmer bug is an assert instead; a bad pipeline is a list of
// Diagnostics. `transient` tells the caller whether retrying can help.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace af {

struct Error {
  std::string message;     // one line, names the place: "file.csv:12: expected 12 fields, got 3"
  bool transient = false;  // true: retrying may succeed (disconnect, 5xx); false: fatal
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}              // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}          // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(std::string message, bool transient = false) {
  return Error{std::move(message), transient};
}

}  // namespace af
