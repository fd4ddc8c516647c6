// features.mfi: money flow index (TA-Lib MFI).

#include "features/builtins.hpp"
#include "features/compensated_sum.hpp"
#include "features/feature_helpers.hpp"
#include "features/ring_window.hpp"

namespace af::features {
namespace {

// Mfi: one (step, symbol); rings of the last `window` positive and negative
// money flows and their rolling sums. Compute thread.
class Mfi final : public Feature {
 public:
  explicit Mfi(int64_t window) : pos_ring_(static_cast<size_t>(window)), neg_ring_(static_cast<size_t>(window)) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double tp = (in[0] + in[1] + in[2]) / 3.0;
    if (!started_) {
      started_ = true;
      prev_tp_ = tp;
      return;
    }
    const double flow = tp * in[3];
    const double pos = tp > prev_tp_ ? flow : 0.0;
    const double neg = tp < prev_tp_ ? flow : 0.0;
    prev_tp_ = tp;
    if (pos_ring_.full()) {
      pos_.remove(pos_ring_.oldest());
      neg_.remove(neg_ring_.oldest());
    }
    pos_ring_.push(pos);
    neg_ring_.push(neg);
    pos_.add(pos);
    neg_.add(neg);
    if (!pos_ring_.full()) return;
    const double p = pos_.value(), total = p + neg_.value();
    out[0] = total != 0.0 ? finite_or_nan(100.0 * (p / total)) : 0.0;
  }
  void save(StateWriter& w) const override {
    w.put(started_);
    w.put(prev_tp_);
    pos_ring_.save(w);
    neg_ring_.save(w);
    pos_.save(w);
    neg_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(started_);
    r.get(prev_tp_);
    return pos_ring_.load(r) && neg_ring_.load(r) && pos_.load(r) && neg_.load(r);
  }

 private:
  bool started_ = false;
  double prev_tp_ = 0.0;
  RingWindow pos_ring_, neg_ring_;
  CompensatedSum pos_, neg_;
};

}  // namespace

registry::Descriptor mfi_descriptor() {
  auto d = feature_descriptor(
      "features.mfi", "Money flow index (TA-Lib MFI)",
      "`tp = (high + low + close) / 3`, `flow = tp * volume`; a flow is positive when `tp > tp[t-1]`, "
      "negative when `tp < tp[t-1]`. Over the last `window` bars: `mfi = 100 * sum(pos) / (sum(pos) + "
      "sum(neg))`, 0 when both sums are 0 (TA-Lib writes 0 whenever the total is below 1).",
      {"high", "low", "close", "volume"}, {"MFI in [0, 100]"}, 1);
  d.params = {int_param("window", 14, 1, "bars of money flow summed")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + 1; };
  d.warmup_doc = "window + 1";
  return d;
}

Result<std::unique_ptr<Feature>> make_mfi(const FeatureContext& ctx) {
  return make_feature<Mfi>(ctx.params.get_int("window"));
}

}  // namespace af::features
