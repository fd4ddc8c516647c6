#include "nats/bus_bar_feed.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/log.hpp"
#include "common/time.hpp"
#include "nats/nats_error.hpp"

namespace af::nats {
namespace {

constexpr size_t kMaxConsumerName = 64;
constexpr int64_t kFetchWaitMs = 200;     // one pull request's wait: bounds how late a stop is seen
constexpr int64_t kHistoryNextMs = 5'000;  // an ordered consumer silent this long: the server is gone
constexpr size_t kHandOverChunk = 4096;
// A bar is published once it closed: its close may be after the time the stream
// stored it by the clock skew between the exchange, ingest and the server, never
// by more than this.
constexpr int64_t kCloseAfterStoredSlackMs = 5 * 60'000;
// A bad message's problem is cut to this in its log line: a hostile payload (up
// to the server's 1 MB) must not become a 1 MB line.
constexpr size_t kMaxProblemChars = 240;

bool allowed_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string view_data(natsMsg* msg) {
  return std::string(natsMsg_GetData(msg), static_cast<size_t>(std::max(0, natsMsg_GetDataLength(msg))));
}

struct MetaInfo {
  uint64_t stream_seq = 0;
  uint64_t delivered = 1;
  int64_t stored_ms = 0;  // when the stream stored it (the server's clock); 0: not known
};

MetaInfo meta_of(natsMsg* msg) {
  MetaInfo info;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta) {
    info.stream_seq = meta->Sequence.Stream;
    info.delivered = meta->NumDelivered;
    info.stored_ms = meta->Timestamp / 1'000'000;
    jsMsgMetaData_Destroy(meta);
  }
  return info;
}

std::string bounded(std::string text) {
  if (text.size() > kMaxProblemChars) {
    const size_t cut = text.size() - kMaxProblemChars;
    text.resize(kMaxProblemChars);
    text += "... (" + std::to_string(cut) + " more bytes)";
  }
  return text;
}

// Older than this, a live bar's close moment is a redelivery after an outage or a
// restart: its latency would be the outage's, so the hand-over stamps it instead.
constexpr int64_t kMaxFinalAtAgeUs = 60'000'000;

// The moment the publishing side's feed found the bar final (header
// kBarFinalAtHeader, Unix us), moved onto this process's feed clock, so that the
// close-to-emit latency includes the bus hop. Absent, unreadable, in the future
// (clocks of two machines) or too old: left 0, and the hand-over stamps its own.
void stamp_final_at(natsMsg* msg, LiveFeedBar& b) {
  const char* text = nullptr;
  if (natsMsgHeader_Get(msg, kBarFinalAtHeader, &text) != NATS_OK || text == nullptr) return;
  int64_t at = 0;
  const char* end = text + std::strlen(text);
  if (auto [p, ec] = std::from_chars(text, end, at); ec != std::errc() || p != end || at <= 0) return;
  using std::chrono::duration_cast, std::chrono::microseconds, std::chrono::system_clock;
  const int64_t wall_now_us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  const int64_t age = wall_now_us - at;
  if (age < 0 || age > kMaxFinalAtAgeUs) return;
  b.final_at_us = feed_clock_us() - age;
  b.final_at_ms = at / 1000;
}

}  // namespace

std::string bar_message_problem(const BarMessage& m, std::string_view subject, const std::string& source,
                                const std::string& interval, int64_t interval_ms, int64_t stored_ms) {
  if (m.series.source != source || m.series.interval != interval || bar_subject(m.series) != subject)
    return "holds a bar of " + bar_subject(m.series);
  if (interval_ms > 0 && m.bar.ts % interval_ms != 0)
    return "open time " + format_iso8601(m.bar.ts) + " is not on the " + interval + " grid";
  // ts + interval > stored + slack, without overflow for an absurd ts.
  if (interval_ms > 0 && stored_ms > 0 && m.bar.ts - kCloseAfterStoredSlackMs > stored_ms - interval_ms)
    return "bar of " + format_iso8601(m.bar.ts) + " closes after the stream stored it (" + format_iso8601(stored_ms) +
           "); a bar is published once closed";
  return {};
}

std::string durable_consumer_name(const std::string& pipeline, const std::string& source, const std::string& interval,
                                  int step, const std::string& shard) {
  std::string name = "af_" + pipeline + "_" + source + "_" + interval + "_s" + std::to_string(step) + "_" + shard;
  for (char& c : name) {
    if (!allowed_name_char(c)) c = '_';
  }
  if (name.size() <= kMaxConsumerName) return name;
  uint64_t h = 14695981039346656037ULL;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return name.substr(0, kMaxConsumerName - 17) + "_" + hex;
}

BusBarFeed::BusBarFeed(BusBarFeedOptions options)
    : QueuedLiveFeed("nats", "bus feed " + options.step_path, "bus feed " + options.step_path),
      options_(std::move(options)) {
  for (uint32_t i = 0; i < options_.universe.size(); ++i) symbol_index_.emplace(options_.universe[i], i);
}

BusBarFeed::~BusBarFeed() {
  stop();
  release_unacked();
  // The pull subscription is bound to the durable consumer (it did not create
  // it), so destroying it leaves the consumer and its ack state on the server.
  // Before the connection goes (bus_ is destroyed after this body).
  if (sub_) natsSubscription_Destroy(sub_);
  sub_ = nullptr;
}

Status BusBarFeed::start() {
  if (options_.universe.empty()) return make_error(options_.step_path + ": the bus feed has no symbol to compute");
  if (options_.interval_ms <= 0) return make_error(options_.step_path + ": the bus feed needs an interval");
  if (options_.ack_wait_ms <= 0 || options_.fetch_batch <= 0 || options_.anchor_timeout_ms <= 0)
    return make_error(options_.step_path + ": the bus feed's ack wait, batch and anchor timeout must be positive");
  BarSeries probe{options_.source, options_.interval, options_.universe.front()};
  if (std::string p = bar_series_problem(probe); !p.empty()) return make_error(options_.step_path + ": " + p);
  for (const auto& sym : options_.universe) {
    probe.symbol = sym;
    if (std::string p = bar_series_problem(probe); !p.empty()) return make_error(options_.step_path + ": " + p);
  }
  if (options_.max_ack_pending <= 0)
    options_.max_ack_pending = std::max<int64_t>(1000, 64 * static_cast<int64_t>(options_.universe.size()));
  start_worker([this] { run(); });
  return Status{};
}

int64_t BusBarFeed::stale_after_ms() const {
  if (options_.stale_after_ms > 0) return options_.stale_after_ms;
  const int64_t cadence = std::min<int64_t>(options_.interval_ms, 2 * 3'600'000LL / 20);
  return std::max<int64_t>(10'000, 20 * cadence);
}

BusBarFeed::Counters BusBarFeed::counters() const {
  Counters c;
  c.received = received_.load();
  c.redelivered = redelivered_.load();
  c.acked = acked_.load();
  c.bad = bad_.load();
  c.pending = pending_.load();
  if (BusConnection* b = bus_view_.load()) {
    const BusHealth h = b->health();
    c.connected = h.connected;
    c.disconnected_since_ms = h.disconnected_since_ms;
  }
  return c;
}

bool BusBarFeed::connect_with_retry() {
  auto log = logger("nats");
  const int64_t started = now_ms();
  for (int attempt = 1;; ++attempt) {
    auto connected = BusConnection::connect(options_.bus, options_.connect);
    if (connected) {
      bus_ = std::move(connected).value();
      bus_view_ = bus_.get();
      return true;
    }
    const Error& e = connected.error();
    if (!e.transient) {
      handoff().fail(e);
      return false;
    }
    if (now_ms() - started >= options_.anchor_timeout_ms) {
      handoff().fail(make_error(e.message + " (gave up after " + std::to_string(attempt) + " attempts in " +
                                std::to_string(options_.anchor_timeout_ms / 1000) + " s, the anchor timeout)"));
      return false;
    }
    const int64_t wait = std::min<int64_t>(options_.connect.reconnect_wait_ms * (int64_t{1} << std::min(attempt, 5)),
                                           5'000);
    log->warn("{}; retrying in {} ms (attempt {})", e.message, wait, attempt);
    if (handoff().sleep_for(wait)) return false;
  }
}

Status BusBarFeed::bind_consumer() {
  const std::string filter = bar_subject_wildcard(options_.source, options_.interval);
  const std::string where = "consumer " + options_.durable + " of stream " + options_.stream + " on " + bus_->bus();
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&info, bus_->jetstream(), options_.stream.c_str(), options_.durable.c_str(),
                                    nullptr, &code);
  if (s == NATS_OK) {
    const std::string existing = info->Config && info->Config->FilterSubject ? info->Config->FilterSubject : "";
    jsConsumerInfo_Destroy(info);
    if (existing != filter)
      return make_error(where + " exists with filter subject '" + existing + "', not " + filter +
                        "; delete it or name the pipeline differently");
  } else if (s == NATS_NOT_FOUND || code == JSConsumerNotFoundErr) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = options_.durable.c_str();
    cc.DeliverPolicy = js_DeliverNew;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = options_.ack_wait_ms * 1'000'000;
    cc.MaxAckPending = options_.max_ack_pending;
    cc.FilterSubject = filter.c_str();
    code = static_cast<jsErrCode>(0);
    s = js_AddConsumer(&info, bus_->jetstream(), options_.stream.c_str(), &cc, nullptr, &code);
    if (s != NATS_OK) return nats_error("create " + where, s, code);
    jsConsumerInfo_Destroy(info);
    logger("nats")->info("created {} filter={} ack_wait={} ms max_ack_pending={}", where, filter,
                         options_.ack_wait_ms, options_.max_ack_pending);
  } else if (code == JSStreamNotFoundErr) {
    // A shard started before its ingest (or while ingest creates the stream): the
    // stream will appear; waited for like a bus that is down, up to the anchor timeout.
    return make_error("look up " + where + ": stream " + options_.stream +
                          " not found (it is created by `alpha_forge ingest`); waiting for it",
                      true);
  } else {
    return nats_error("look up " + where, s, code);
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  so.Consumer = options_.durable.c_str();
  code = static_cast<jsErrCode>(0);
  // Bound to the existing consumer: the client did not create it, so closing the
  // subscription leaves it (and its ack state) on the server.
  s = js_PullSubscribe(&sub_, bus_->jetstream(), filter.c_str(), options_.durable.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) return nats_error("subscribe to " + where, s, code);
  return Status{};
}

void BusBarFeed::take_live(natsMsg* msg, std::vector<Held>& held) {
  const MetaInfo meta = meta_of(msg);
  received_.fetch_add(1, std::memory_order_relaxed);
  if (meta.delivered > 1) redelivered_.fetch_add(1, std::memory_order_relaxed);
  const char* subject = natsMsg_GetSubject(msg);
  const std::string place = std::string(subject ? subject : "?") + " (stream " + options_.stream + " sequence " +
                            std::to_string(meta.stream_seq) + ")";
  auto decoded = decoder_.decode(view_data(msg));
  std::optional<uint32_t> symbol;
  std::string problem;
  if (!decoded) {
    problem = decoded.error().message;
  } else {
    problem = bar_message_problem(*decoded, subject ? subject : "", options_.source, options_.interval,
                                  options_.interval_ms, meta.stored_ms);
    if (auto it = symbol_index_.find(decoded->series.symbol); problem.empty() && it != symbol_index_.end())
      symbol = it->second;
  }
  if (!problem.empty()) {
    bad_.fetch_add(1, std::memory_order_relaxed);
    logger("nats")->error("{}: bad bar message on {}: {}; skipped", options_.step_path, place, bounded(problem));
    natsMsg_Term(msg, nullptr);  // never redelivered: it will not decode next time either
    acked_.fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
    return;
  }
  if (!symbol) {  // another shard's symbol
    natsMsg_Ack(msg, nullptr);
    acked_.fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
    return;
  }
  LiveFeedBar b;
  b.symbol = *symbol;
  b.bar = decoded->bar;
  b.history = false;
  stamp_final_at(msg, b);
  held.push_back({b, msg});
}

bool BusBarFeed::anchors(const Bar& bar) const {
  return std::find(options_.live_origins.begin(), options_.live_origins.end(), bar.origin) !=
         options_.live_origins.end();
}

void BusBarFeed::hand_over(std::vector<Held>& held) {
  if (held.empty()) return;
  std::vector<LiveFeedBar> bars;
  bars.reserve(held.size());
  {
    // The acks are queued before the bars: poll() never returns a bar whose
    // message on_settled() cannot find.
    std::lock_guard lock(ack_mutex_);
    for (auto& h : held) {
      unacked_.push_back(h.msg);
      bars.push_back(h.bar);
    }
  }
  held.clear();
  handoff().update_stats([&](LiveFeedStats& s) { s.last_data_ms = now_ms(); });
  handoff().push(bars);
}

bool BusBarFeed::poll(std::vector<LiveFeedBar>& out, int64_t wait_ms) {
  const size_t before = out.size();
  const bool ok = QueuedLiveFeed::poll(out, wait_ms);
  for (size_t i = before; i < out.size(); ++i) {
    if (!out[i].history) ++polled_live_;
  }
  return ok;
}

void BusBarFeed::on_settled() {
  if (acked_polled_ == polled_live_) return;
  std::vector<natsMsg*> done;
  {
    std::lock_guard lock(ack_mutex_);
    const uint64_t n = std::min<uint64_t>(polled_live_ - acked_polled_, unacked_.size());
    done.assign(unacked_.begin(), unacked_.begin() + static_cast<std::ptrdiff_t>(n));
    unacked_.erase(unacked_.begin(), unacked_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  for (natsMsg* m : done) {
    // An ack that does not reach the server (the bus is down) is not retried:
    // the message comes again after the ack wait and the tracker drops it.
    natsMsg_Ack(m, nullptr);
    natsMsg_Destroy(m);
  }
  acked_polled_ += done.size();
  acked_.fetch_add(done.size(), std::memory_order_relaxed);
}

void BusBarFeed::release_unacked() {
  std::lock_guard lock(ack_mutex_);
  // Not acked: the server delivers them again after the ack wait (to the next run).
  for (natsMsg* m : unacked_) natsMsg_Destroy(m);
  unacked_.clear();
}

void BusBarFeed::poll_pending() {
  const int64_t now = now_ms();
  if (now - last_pending_poll_ < options_.pending_poll_ms) return;
  last_pending_poll_ = now;
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&info, bus_->jetstream(), options_.stream.c_str(),
                                          options_.durable.c_str(), nullptr, &code);
  if (s == NATS_OK && info) {
    pending_ = static_cast<int64_t>(std::min<uint64_t>(info->NumPending, std::numeric_limits<int64_t>::max()));
    jsConsumerInfo_Destroy(info);
  } else {
    logger("nats")->debug("{}", nats_error("consumer info of " + options_.durable + " on " + bus_->bus(), s, code)
                                    .message);
  }
}

Status BusBarFeed::read_symbol_history(uint32_t symbol, int64_t from, int64_t anchor) {
  const BarSeries series{options_.source, options_.interval, options_.universe[symbol]};
  const std::string subject = bar_subject(series);
  // The subject's end at the moment of reading: the last stored message.
  natsMsg* last = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&last, bus_->jetstream(), options_.stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return Status{};
  if (s != NATS_OK)
    return nats_error("last message of " + subject + " in stream " + options_.stream + " on " + bus_->bus(), s, code);
  const uint64_t end_seq = natsMsg_GetSequence(last);
  const int64_t end_time_ns = natsMsg_GetTime(last);
  natsMsg_Destroy(last);
  if (from > std::numeric_limits<int64_t>::max() / 1'000'000) return Status{};
  const int64_t from_ns = std::max<int64_t>(0, from) * 1'000'000;
  if (end_time_ns < from_ns) return Status{};  // nothing stored since from

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartTime;
  so.Config.OptStartTime = from_ns;
  natsSubscription* sub = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_SubscribeSync(&sub, bus_->jetstream(), subject.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) return nats_error("read history of " + subject + " on " + bus_->bus(), s, code);
  std::vector<LiveFeedBar> chunk;
  Status result;
  uint64_t handed = 0;
  for (;;) {
    if (handoff().stopping()) break;
    natsMsg* msg = nullptr;
    s = natsSubscription_NextMsg(&msg, sub, kHistoryNextMs);
    if (s == NATS_TIMEOUT) {
      if (handoff().stopping()) break;
      result = make_error("read history of " + subject + " on " + bus_->bus() + ": no message for " +
                          std::to_string(kHistoryNextMs / 1000) + " s before sequence " + std::to_string(end_seq));
      break;
    }
    if (s != NATS_OK) {
      result = nats_error("read history of " + subject + " on " + bus_->bus(), s);
      break;
    }
    const MetaInfo meta = meta_of(msg);
    auto decoded = decoder_.decode(view_data(msg));
    natsMsg_Destroy(msg);
    const std::string problem =
        decoded ? bar_message_problem(*decoded, subject, options_.source, options_.interval, options_.interval_ms,
                                      meta.stored_ms)
                : decoded.error().message;
    if (!problem.empty()) {
      bad_.fetch_add(1, std::memory_order_relaxed);
      logger("nats")->error("{}: bad bar message on {} (stream {} sequence {}): {}; skipped", options_.step_path,
                            subject, options_.stream, meta.stream_seq, bounded(problem));
    } else if (decoded->bar.ts >= from) {
      LiveFeedBar b;
      b.symbol = symbol;
      b.bar = decoded->bar;
      b.history = true;
      chunk.push_back(b);
      if (chunk.size() >= kHandOverChunk) {
        handoff().push(chunk);
        handed += chunk.size();
        chunk.clear();
      }
    }
    if (meta.stream_seq >= end_seq) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  handed += chunk.size();
  handoff().push(chunk);
  logger("nats")->debug("history {} from {} (anchor {}): {} bars", subject, format_iso8601(from),
                        format_iso8601(anchor), handed);
  return result;
}

Status BusBarFeed::read_history(const std::vector<int64_t>& from, int64_t anchor) {
  for (uint32_t i = 0; i < options_.universe.size() && i < from.size(); ++i) {
    if (handoff().stopping()) return Status{};
    if (Status st = read_symbol_history(i, from[i], anchor); !st) return st;
  }
  return Status{};
}

void BusBarFeed::run() {
  auto log = logger("nats");
  if (!connect_with_retry()) return;
  // The stream must exist (ingest creates it): a missing one, like a bus that is
  // down, is waited for up to the anchor timeout (no bar can come before it exists).
  const int64_t bind_started = now_ms();
  for (int attempt = 1;; ++attempt) {
    Status bound = bind_consumer();
    if (bound) break;
    if (!bound.error().transient) {
      handoff().fail(bound.error());
      return;
    }
    if (now_ms() - bind_started >= options_.anchor_timeout_ms) {
      handoff().fail(make_error(bound.error().message + " (gave up after " + std::to_string(attempt) +
                                " attempts in " + std::to_string(options_.anchor_timeout_ms / 1000) +
                                " s, the anchor timeout)"));
      return;
    }
    log->warn("{}; retrying", bound.error().message);
    if (handoff().sleep_for(1'000)) return;
  }
  log->info("{}: live bars from consumer {} of stream {} on {}", options_.step_path, options_.durable,
            options_.stream, bus_->bus());

  std::vector<Held> held;
  const int64_t started = now_ms();
  auto fetch = [&](int64_t wait) -> bool {
    natsMsgList list{nullptr, 0};
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, sub_, options_.fetch_batch, wait, &code);
    if (s == NATS_OK) {
      for (int i = 0; i < list.Count; ++i) {
        take_live(list.Msgs[i], held);
        list.Msgs[i] = nullptr;  // owned by take_live now
      }
      natsMsgList_Destroy(&list);
      return true;
    }
    natsMsgList_Destroy(&list);
    if (s == NATS_TIMEOUT) return true;
    const Error e = nats_error("fetch from consumer " + options_.durable + " on " + bus_->bus(), s, code);
    if (!e.transient) {
      handoff().fail(e);
      return false;
    }
    // The bus is down: the client reconnects by itself; try again shortly.
    log->warn("{}; retrying", e.message);
    return !handoff().sleep_for(500);
  };

  // 1. The anchor: the first bar this shard computes that ingest published live.
  // Before it come the bars of an ingest still publishing history (its first fill
  // of the stream, or a restart's catch-up): they are in the stream, where the
  // history read below finds them by time, so they are acked and skipped here
  // (anchoring on one would make the warmup reach before the stream's history and
  // call weeks-old bars live). The anchor timeout counts from the newest message:
  // a long history fill is not a silent bus.
  int64_t last_message_at = started;
  uint64_t skipped_history = 0;
  for (;;) {
    const uint64_t received_before = received_.load(std::memory_order_relaxed);
    if (handoff().stopping_or_failed()) return;
    if (now_ms() - last_message_at > options_.anchor_timeout_ms) {
      handoff().fail(make_error(options_.step_path + ": no live bar on " +
                                bar_subject_wildcard(options_.source, options_.interval) + " in stream " +
                                options_.stream + " on " + bus_->bus() + " within " +
                                std::to_string(options_.anchor_timeout_ms / 1000) + " s (" +
                                std::to_string(skipped_history) + " history bars before; is ingest running?)"));
      return;
    }
    if (!fetch(kFetchWaitMs)) return;
    if (received_.load(std::memory_order_relaxed) != received_before) last_message_at = now_ms();
    const auto first_live = std::find_if(held.begin(), held.end(), [&](const Held& h) { return anchors(h.bar.bar); });
    for (auto it = held.begin(); it != first_live; ++it) {
      natsMsg_Ack(it->msg, nullptr);
      natsMsg_Destroy(it->msg);
      acked_.fetch_add(1, std::memory_order_relaxed);
      ++skipped_history;
    }
    held.erase(held.begin(), first_live);
    if (!held.empty()) break;
  }
  if (skipped_history > 0)
    log->info("{}: skipped {} bars ingest published as history before its first live one (the history read takes "
              "them from the stream)",
              options_.step_path, skipped_history);
  const int64_t anchor = held.front().bar.bar.ts;
  handoff().update_stats([&](LiveFeedStats& s) { s.last_data_ms = now_ms(); });
  handoff().set_anchor(anchor);

  // 2. History from the stream; the live messages wait, unfetched, on the server
  // (those fetched already wait in `held`).
  auto request = handoff().wait_history_request();
  if (!request) return;
  if (Status st = read_history(request->from, anchor); !st) {
    handoff().fail(st.error());
    return;
  }
  handoff().mark_history_done();
  hand_over(held);

  // 3. Live.
  while (!handoff().stopping_or_failed()) {
    if (!fetch(kFetchWaitMs)) return;
    hand_over(held);
    poll_pending();
  }
}

}  // namespace af::nats
