// features.ma_rocp: rate of change of a simple moving average.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ring_window.hpp"
#include "features/window_sum.hpp"

namespace af::features {
namespace {

// MaRocp: one (step, symbol); an SMA window plus the last rocp_period+1 SMA
// values. Compute thread.
class MaRocp final : public Feature {
 public:
  MaRocp(int64_t window, int64_t period, double factor)
      : sma_(static_cast<size_t>(window)), means_(static_cast<size_t>(period) + 1), factor_(factor) {}

  void update(std::span<const double> in, std::span<double> out) override {
    sma_.push(in[0]);
    if (!sma_.full()) return;
    means_.push(sma_.mean());
    if (!means_.full()) return;
    out[0] = finite_or_nan((means_.back(0) / means_.oldest() - 1.0) * factor_);
  }
  void save(StateWriter& w) const override {
    sma_.save(w);
    means_.save(w);
  }
  bool load(StateReader& r) override { return sma_.load(r) && means_.load(r); }

 private:
  WindowSum sma_;
  RingWindow means_;
  double factor_;
};

}  // namespace

registry::Descriptor ma_rocp_descriptor() {
  auto d = feature_descriptor(
      "features.ma_rocp", "Rate of change of a simple moving average",
      "`m = SMA(x, window)`; `ma_rocp = (m[t] / m[t-rocp_period] - 1) * rocp_factor`. NaN when "
      "`m[t-rocp_period]` is 0.",
      {}, {"(m[t] / m[t-rocp_period] - 1) * rocp_factor"}, 1);
  d.params = {required_int_param("window", 1, "SMA window, in bars"),
              int_param("rocp_period", 1, 1, "bars between the two SMA values compared"),
              number_param("rocp_factor", 1.0, std::nullopt, std::nullopt, "multiplier (100 gives percent)")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + p.get_int("rocp_period"); };
  d.warmup_doc = "window + rocp_period";
  return d;
}

Result<std::unique_ptr<Feature>> make_ma_rocp(const FeatureContext& ctx) {
  return make_feature<MaRocp>(ctx.params.get_int("window"), ctx.params.get_int("rocp_period"),
                              ctx.params.get_number("rocp_factor"));
}

}  // namespace af::features
