#pragma once
// StateArchive: the byte format of operator state in snapshots (issue: restarts).
// Every stateful operator writes its state with `save` and restores it with `load`
// in the same order. Plain little-endian bytes of fixed-size values; a reader that
// runs past the end sets failed() instead of reading garbage.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace af {

class StateWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const char*>(&v);
    bytes_.append(p, sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<uint64_t>(v.size());
    for (const auto& x : v) put(x);
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    bytes_.append(s);
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view bytes) : bytes_(bytes) {}

  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    if (pos_ + sizeof(T) > bytes_.size()) {
      failed_ = true;
      return v;
    }
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <class T>
  void get(T& v) { v = get<T>(); }
  template <class T>
  void get_vector(std::vector<T>& v) {
    const auto n = get<uint64_t>();
    if (failed_ || n > (bytes_.size() - pos_) / (sizeof(T) == 0 ? 1 : sizeof(T))) {
      failed_ = true;
      return;
    }
    v.resize(n);
    for (auto& x : v) x = get<T>();
  }
  std::string get_string() {
    const auto n = get<uint64_t>();
    if (failed_ || n > bytes_.size() - pos_) {
      failed_ = true;
      return {};
    }
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == bytes_.size(); }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace af
