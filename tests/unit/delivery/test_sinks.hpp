#pragma once
// Fake sinks for emitter and sink tests: a recording sink whose behaviour
// (delay, transient or fatal failures, a gate that blocks writes) is scripted.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sink.hpp"

namespace af::test {

struct Delivered {
  int64_t ts;
  std::string symbol;
  double prediction;
  bool operator==(const Delivered&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Delivered& d) {
    return os << d.symbol << "@" << d.ts << "=" << d.prediction;
  }
};

// Shared state outlives the sink (the emitter owns the sink itself).
struct SinkScript {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Delivered> got;
  std::atomic<int> writes{0};
  std::atomic<int> flushes{0};
  std::atomic<bool> opened{false};
  std::atomic<bool> closed{false};
  std::string open_error;                   // non-empty: open() fails with it
  std::atomic<int> fail_transient_writes{0};  // the next N writes fail transiently
  std::atomic<bool> down{false};            // every write fails transiently while set
  std::atomic<bool> fatal_on_write{false};
  std::atomic<bool> throw_on_write{false};
  std::atomic<int> delay_ms{0};             // per write
  std::atomic<int> fail_from{-1};           // write attempts [fail_from, fail_from + fail_count) fail transiently
  std::atomic<int> fail_count{0};
  std::atomic<bool> gate_closed{false};     // writes wait while set
  std::atomic<bool> flush_down{false};      // every flush fails transiently while set (a full disk)
  std::atomic<int> failed_flushes{0};

  size_t count() {
    std::lock_guard l(mu);
    return got.size();
  }
  bool wait_for_count(size_t n, int timeout_ms) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] { return got.size() >= n; });
  }
  void open_gate() {
    gate_closed = false;
    cv.notify_all();
  }
};

class ScriptedSink : public Sink {
 public:
  explicit ScriptedSink(SinkScript& s) : s_(s) {}
  Status open() override {
    if (!s_.open_error.empty()) return make_error(s_.open_error);
    s_.opened = true;
    return {};
  }
  Status write(std::span<const PredictionRecord> batch) override {
    const int index = s_.writes.fetch_add(1);
    {
      std::unique_lock l(s_.mu);
      s_.cv.wait(l, [&] { return !s_.gate_closed.load(); });
    }
    if (int d = s_.delay_ms.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    if (s_.throw_on_write) throw std::runtime_error("kaboom");
    if (s_.fatal_on_write) return make_error("rejected by server", false);
    if (s_.down) return make_error("connection refused", true);
    if (index >= s_.fail_from && index < s_.fail_from + s_.fail_count) return make_error("injected failure", true);
    if (s_.fail_transient_writes.load() > 0) {
      --s_.fail_transient_writes;
      return make_error("timeout", true);
    }
    std::lock_guard l(s_.mu);
    for (const auto& r : batch) s_.got.push_back({r.ts, r.symbol ? *r.symbol : "", r.prediction});
    s_.cv.notify_all();
    return {};
  }
  Status flush() override {
    ++s_.flushes;
    if (s_.flush_down) {
      ++s_.failed_flushes;
      return make_error("write failed: No space left on device", true);
    }
    return {};
  }
  Status close() override {
    s_.closed = true;
    return {};
  }

 private:
  SinkScript& s_;
};

}  // namespace af::test
