#pragma once
// The private state of LiveDriver, shared by live_driver.cpp (the run loop) and
// live_metrics.cpp (what the metrics endpoint shows). Fields written by the
// compute thread and read by the metrics thread are atomics.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/engine.hpp"
#include "service/latency_histogram.hpp"
#include "service/live_driver.hpp"
#include "service/snapshot_writer.hpp"
#include "service/status_board.hpp"
#include "service/state_store.hpp"
#include "binance/live_bar_feed.hpp"

namespace af::service {

struct LiveDriver::Impl {
  dag::Plan plan;
  SignalEmitter* sinks = nullptr;
  const PluginSet* plugins = nullptr;  // outlives the driver (the command owns it)
  LiveOptions options;
  std::unique_ptr<Engine> engine;
  std::optional<StateStore> store;
  std::unique_ptr<SnapshotWriter> snapshot_writer;  // with a store; after it, so destroyed first

  // One feed per data step (Plan::sources), and its universe index -> engine symbol.
  struct Feed {
    size_t source = 0;
    std::unique_ptr<binance::LiveBarFeed> feed;
    std::vector<SymbolId> symbol_ids;
    int64_t interval_ms = 0;
  };
  std::vector<Feed> feeds;

  // The bar being processed (compute thread): its latency base and whether its
  // predictions count as live.
  int64_t current_final_at_us = 0;  // feed_clock_us()
  bool current_live = false;

  std::atomic<uint64_t> events{0}, history_bars{0}, catch_up_bars{0}, live_bars{0}, predictions{0};
  std::atomic<uint64_t> duplicates{0}, revisions{0}, nan_skipped{0};
  std::atomic<int64_t> warmup_started_ms{0}, warmup_done_ms{0};
  std::atomic<bool> warmup_done{false}, restored{false};
  std::atomic<int64_t> anchor{0};
  int64_t snapshot_max_age_ms = 0;  // resolved from the options
  LatencyHistogram close_to_emit;  // seconds from a live bar found final to its record handed to the sinks
  StatusBoard status;              // per symbol, for /status

  mutable std::mutex failure_mutex;
  std::string failure;  // a feed's fatal error, for /healthz

  void on_prediction(const PredictionRecord& r);
  // The anchor without a usable snapshot: after the sinks' newest predictions, bounded.
  int64_t anchor_from_sinks(int64_t first_message_anchor) const;
  std::string metrics_text() const;
  std::string status_json() const;  // live_status.cpp
  // ms since the newest snapshot (or the end of warmup); -1 without a store or before warmup.
  int64_t snapshot_age_ms(int64_t now) const;
  HealthStatus health() const;
};

}  // namespace af::service
