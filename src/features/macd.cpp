// features.macd: MACD line, signal and histogram with TA-Lib's seeding.

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ta_ema.hpp"
#include "features/ring_window.hpp"

namespace af::features {
namespace {

// Macd: one (step, symbol). TA-Lib starts the fast EMA where the slow one
// starts (row slow-1), seeded with the mean of the `fast` values ending there,
// not at row fast-1: a ring of the last `fast` inputs provides that seed.
// Compute thread.
class Macd final : public Feature {
 public:
  Macd(int64_t fast, int64_t slow, int64_t signal)
      : fast_window_(static_cast<size_t>(fast)), fast_ema_(fast), slow_ema_(slow),
        signal_ema_(signal) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double x = in[0];
    const double s = slow_ema_.update(x);
    double f;
    if (!slow_ema_.ready()) {
      fast_window_.push(x);
      return;
    }
    if (!fast_ema_.ready()) {  // row slow-1: seed the fast EMA as TA-Lib does
      fast_window_.push(x);
      double sum = 0.0;  // summed oldest first, as TA-Lib's seed
      fast_window_.for_each([&](double v) { sum += v; });
      fast_ema_.seed(sum / static_cast<double>(fast_window_.capacity()));
      f = fast_ema_.value();
    } else {
      f = fast_ema_.update(x);
    }
    const double line = f - s;
    const double sig = signal_ema_.update(line);
    if (!signal_ema_.ready()) return;
    out[0] = line;
    if (out.size() > 1) out[1] = sig;
    if (out.size() > 2) out[2] = line - sig;
  }
  void save(StateWriter& w) const override {
    fast_window_.save(w);
    fast_ema_.save(w);
    slow_ema_.save(w);
    signal_ema_.save(w);
  }
  bool load(StateReader& r) override {
    return fast_window_.load(r) && fast_ema_.load(r) && slow_ema_.load(r) && signal_ema_.load(r);
  }

 private:
  RingWindow fast_window_;
  TaEma fast_ema_, slow_ema_, signal_ema_;
};

}  // namespace

registry::Descriptor macd_descriptor() {
  auto d = feature_descriptor(
      "features.macd", "Moving average convergence/divergence (TA-Lib MACD)",
      "`line = EMA(x, fast) - EMA(x, slow)`, `signal = EMA(line, signal)`, `hist = line - signal`, "
      "with `k = 2/(period+1)`. Seeding as TA-Lib: the slow EMA starts at row `slow-1` with the mean of "
      "the first `slow` values; the fast EMA starts at the same row with the mean of the `fast` values "
      "ending there; the signal EMA starts with the mean of the first `signal` line values. All three "
      "outputs are valid from row `slow + signal - 2`. Requires `fast < slow`.",
      {}, {"MACD line", "signal line", "histogram (line - signal)"}, 1);
  d.params = {int_param("fast", 12, 2, "fast EMA period"), int_param("slow", 26, 2, "slow EMA period"),
              int_param("signal", 9, 1, "signal EMA period")};
  d.warmup_rows = [](const registry::Params& p) { return p.get_int("slow") + p.get_int("signal") - 1; };
  d.warmup_doc = "slow + signal - 1";
  d.settling_window = [](const registry::Params& p) { return p.get_int("slow"); };
  d.check = [](const registry::Params& p) {
    std::vector<std::string> errors;
    if (p.get_int("fast") >= p.get_int("slow")) errors.push_back("fast must be less than slow");
    return errors;
  };
  return d;
}

Result<std::unique_ptr<Feature>> make_macd(const FeatureContext& ctx) {
  const auto fast = ctx.params.get_int("fast"), slow = ctx.params.get_int("slow");
  if (fast >= slow) return make_error("features.macd: fast must be less than slow");
  return make_feature<Macd>(fast, slow, ctx.params.get_int("signal"));
}

}  // namespace af::features
