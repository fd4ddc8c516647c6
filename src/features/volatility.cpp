// features.volatility: rolling standard deviation of log returns.

#include <cmath>

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/rolling_moments.hpp"

namespace af::features {
namespace {

// Volatility: one (step, symbol); rolling moments of log returns. Compute thread.
class Volatility final : public Feature {
 public:
  Volatility(int64_t window, bool sample, double factor)
      : moments_(static_cast<size_t>(window)), ddof_(sample ? 1 : 0), factor_(factor) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double x = in[0];
    if (!has_prev_) {
      has_prev_ = true;
      prev_ = x;
      return;
    }
    moments_.push(finite_or_nan(std::log(x / prev_)));
    prev_ = x;
    if (moments_.full()) out[0] = finite_or_nan(std::sqrt(moments_.variance(ddof_)) * factor_);
  }
  void save(StateWriter& w) const override {
    w.put(has_prev_);
    w.put(prev_);
    moments_.save(w);
  }
  bool load(StateReader& r) override {
    r.get(has_prev_);
    r.get(prev_);
    return moments_.load(r);
  }

 private:
  RollingMoments moments_;
  int ddof_;
  double factor_;
  bool has_prev_ = false;
  double prev_ = 0.0;
};

}  // namespace

registry::Descriptor volatility_descriptor() {
  auto d = feature_descriptor(
      "features.volatility", "Rolling standard deviation of log returns",
      "`r = ln(x / x[t-1])`; `volatility = stdev(r over the last window returns)`, the sample standard "
      "deviation (divide by `window - 1`, as pandas' `rolling().std()`) unless `sample: false` (divide by "
      "`window`). With `annualize: true` it is multiplied by `sqrt(periods_per_year)`.",
      {}, {"volatility"}, 1);
  d.params = {int_param("window", 20, 2, "log returns in the window"),
              bool_param("sample", true, "sample (n-1) rather than population (n) standard deviation"),
              bool_param("annualize", false, "multiply by sqrt(periods_per_year)"),
              number_param("periods_per_year", 8760.0, 1.0, std::nullopt,
                           "bars per year for annualize (8760 for 1h bars, 365 for 1d)")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("window") + 1; };
  d.warmup_doc = "window + 1";
  return d;
}

Result<std::unique_ptr<Feature>> make_volatility(const FeatureContext& ctx) {
  const auto& p = ctx.params;
  const double factor = p.get_bool("annualize") ? std::sqrt(p.get_number("periods_per_year")) : 1.0;
  return make_feature<Volatility>(p.get_int("window"), p.get_bool("sample"), factor);
}

}  // namespace af::features
