#include "delivery/ts_label_sink.hpp"

#include <cstdio>
#include <limits>

namespace af {
namespace {

class CloseLabelSink final : public Sink {
 public:
  CloseLabelSink(std::unique_ptr<Sink> inner, int64_t interval_ms) : inner_(std::move(inner)), interval_ms_(interval_ms) {}

  Status open() override { return inner_->open(); }

  Status write(std::span<const PredictionRecord> batch) override {
    // Reused: no allocation per batch once it has grown to the batch size.
    relabelled_.assign(batch.begin(), batch.end());
    for (auto& r : relabelled_) {
      if (r.ts > std::numeric_limits<int64_t>::max() - interval_ms_)
        return make_error("ts_label close: ts " + std::to_string(r.ts) + " + interval " + std::to_string(interval_ms_) +
                          " ms overflows");
      r.ts += interval_ms_;
    }
    return inner_->write(relabelled_);
  }

  Status flush() override { return inner_->flush(); }
  Status close() override { return inner_->close(); }
  uint64_t skipped() const override { return inner_->skipped(); }

  std::optional<int64_t> last_ts(const std::string& dag_name, const std::string& symbol) const override {
    auto held = inner_->last_ts(dag_name, symbol);
    if (!held || *held < std::numeric_limits<int64_t>::min() + interval_ms_) return held;
    return *held - interval_ms_;
  }

 private:
  std::unique_ptr<Sink> inner_;
  int64_t interval_ms_;
  std::vector<PredictionRecord> relabelled_;
};

}  // namespace

std::unique_ptr<Sink> apply_ts_label(std::unique_ptr<Sink> sink, TsLabel label, int64_t interval_ms) {
  if (label == TsLabel::kOpen) return sink;
  return std::make_unique<CloseLabelSink>(std::move(sink), interval_ms);
}

std::string labelled_fingerprint(const std::string& plan_fingerprint, TsLabel label) {
  if (label == TsLabel::kOpen) return plan_fingerprint;
  // FNV-1a over the plan's fingerprint and the label: stable across builds.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : plan_fingerprint + " ts_label=close") {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace af
