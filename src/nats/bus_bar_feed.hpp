#pragma once
// BusBarFeed: the LiveFeed of one data step read from the market-data bus
// (`signal --bus`, docs/scale-out.md "Shards on the bus") instead of the exchange.
//
//   live     one durable pull consumer per (pipeline, data step, shard) on the
//            stream, filter `af.bars.<source>.<interval>.*`, deliver "new" when it
//            is first created, explicit acks. The anchor is the open time of the
//            first bar received that ingest published live (its origin: the
//            exchange's stream); history bars of an ingest still filling the stream
//            before it are acked and skipped (the history read has them). Bars of
//            symbols outside the universe (another shard's) are acked and dropped.
//   history  per symbol, an ordered consumer on the symbol's subject from start
//            time from[i] up to the subject's last stream sequence at the moment of
//            reading. Every stored bar with ts >= from[i] is handed over, also those
//            at or after the anchor: acks are per message, so a bar of one symbol
//            may be acked (its predictions settled) while an older-sequence bar of
//            another symbol was not; reading the stream to its end is what makes a
//            restart lose nothing. The live consumer delivers some of them again;
//            the engine's processed-event tracker drops those.
//   acks     a live message is acked once on_settled() says every bar poll()
//            returned was processed and its predictions are settled in every sink.
//
// Threads: the worker (QueuedLiveFeed) connects, reads history and fetches live
// messages; the compute thread polls and calls on_settled() (which acks); the
// client's own thread only touches BusConnection's atomics.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nats/bar_codec.hpp"
#include "nats/bus_connection.hpp"
#include "nats/bus_options.hpp"
#include "runtime/queued_live_feed.hpp"

namespace af::nats {

struct BusBarFeedOptions {
  BusOptions bus;
  ConnectPolicy connect;
  std::string stream = "AF_BARS";
  std::string durable;   // the consumer's name (durable_consumer_name)
  std::string source;    // "binance_futures"
  std::string interval;  // "1h"
  int64_t interval_ms = 0;
  std::vector<std::string> universe;       // what this shard computes, LiveFeedBar::symbol's order
  std::string step_path;                   // for messages
  int64_t ack_wait_ms = 60'000;            // the consumer's AckWait (docs/scale-out.md)
  int64_t max_ack_pending = 0;             // 0: max(1000, 64 x universe size)
  int fetch_batch = 256;                   // messages per pull request
  int64_t anchor_timeout_ms = 120'000;     // no live bar by then: the feed fails
  int64_t stale_after_ms = 0;              // 0: 20 x the interval, at least 10 s, at most 2 h
  int64_t pending_poll_ms = 5'000;         // how often the consumer's pending count is asked for
  // The origins of bars ingest published live (from its anchor on): the feed
  // anchors on the first such bar. Binance: the WebSocket's; a history bar comes
  // from the archive or REST (a live one repaired over REST is not an anchor, the
  // next one is).
  std::vector<BarOrigin> live_origins{BarOrigin::kStream};
};

// The durable consumer's name: "af_<pipeline>_<source>_<interval>_s<step>_<shard>",
// <shard> being "all" or "<K>of<N>", every character outside [A-Za-z0-9_-]
// replaced by '_' (NATS refuses '.', '*', '>' and white space in a name); longer
// than 64 characters: the first 47, '_' and the FNV-1a hash of the whole in hex.
std::string durable_consumer_name(const std::string& pipeline, const std::string& source, const std::string& interval,
                                  int step, const std::string& shard);

// Why a decoded bar message cannot be taken from `subject` of a feed of `source`
// and `interval` ("" when it can): it holds another series than the subject names,
// its open time is off the interval's grid, or it closes after `stored_ms`, the
// time the stream stored it (0: not known), by more than a few minutes of clock
// skew (a bar is published once closed; a future-dated bar would move the
// symbol's high-water mark past every real bar to come).
std::string bar_message_problem(const BarMessage& message, std::string_view subject, const std::string& source,
                                const std::string& interval, int64_t interval_ms, int64_t stored_ms);

class BusBarFeed final : public QueuedLiveFeed {
 public:
  explicit BusBarFeed(BusBarFeedOptions options);
  ~BusBarFeed() override;

  Status start() override;
  bool poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) override;
  void on_settled() override;
  int64_t stale_after_ms() const override;

  // The bus counters (metrics; docs/operations.md).
  struct Counters {
    uint64_t received = 0;     // live messages fetched
    uint64_t redelivered = 0;  // of those, delivered more than once (a crash, an expired ack wait)
    uint64_t acked = 0;        // acked after their predictions settled (or dropped: another shard's, bad)
    uint64_t bad = 0;          // messages that did not decode (history and live): logged, skipped
    int64_t pending = -1;      // the consumer's pending messages at the last poll (-1: not known yet)
    bool connected = false;
    int64_t disconnected_since_ms = 0;  // wall time the bus became unreachable, 0 while reachable
  };
  Counters counters() const;

 private:
  struct Held {
    LiveFeedBar bar;
    natsMsg* msg;
  };
  void run();
  bool connect_with_retry();
  Status bind_consumer();
  // A fetched live message: decoded into `held` (its ack then belongs to the
  // feed), or acked/terminated here (another shard's symbol, bad payload).
  void take_live(natsMsg* msg, std::vector<Held>& held);
  // Whether a live bar can be the anchor: ingest published it live (live_origins).
  bool anchors(const Bar& bar) const;
  Status read_history(const std::vector<int64_t>& from, int64_t anchor);
  Status read_symbol_history(uint32_t symbol, int64_t from, int64_t anchor);
  void hand_over(std::vector<Held>& held);
  void poll_pending();
  void release_unacked();

  BusBarFeedOptions options_;
  std::unordered_map<std::string, uint32_t> symbol_index_;
  std::unique_ptr<BusConnection> bus_;
  natsSubscription* sub_ = nullptr;
  BarDecoder decoder_;  // the worker's
  int64_t last_pending_poll_ = 0;

  std::mutex ack_mutex_;
  std::deque<natsMsg*> unacked_;  // handed over, in the order poll() returns them
  uint64_t polled_live_ = 0;      // compute thread: live bars poll() returned
  uint64_t acked_polled_ = 0;     // compute thread: of those, acked

  std::atomic<uint64_t> received_{0}, redelivered_{0}, acked_{0}, bad_{0};
  std::atomic<int64_t> pending_{-1};
  std::atomic<BusConnection*> bus_view_{nullptr};  // for counters() from other threads
};

}  // namespace af::nats
