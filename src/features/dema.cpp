// features.dema: double exponential moving average (TA-Lib DEMA).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ta_ema.hpp"

namespace af::features {
namespace {

// Dema: one (step, symbol); an EMA and an EMA of it. Compute thread.
class Dema final : public Feature {
 public:
  explicit Dema(int64_t window) : e1_(window), e2_(window) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double a = e1_.update(in[0]);
    if (!e1_.ready()) return;
    const double b = e2_.update(a);
    if (e2_.ready()) out[0] = (2.0 * a) - b;
  }
  void save(StateWriter& w) const override {
    e1_.save(w);
    e2_.save(w);
  }
  bool load(StateReader& r) override { return e1_.load(r) && e2_.load(r); }

 private:
  TaEma e1_, e2_;
};

}  // namespace

registry::Descriptor dema_descriptor() {
  auto d = feature_descriptor(
      "features.dema", "Double exponential moving average (TA-Lib DEMA)",
      "`e1 = EMA(x, window)`, `e2 = EMA(e1, window)` (each seeded with the mean of its first `window` "
      "inputs, as TA-Lib); `dema = 2*e1 - e2`.",
      {}, {"DEMA"}, 1);
  d.params = {int_param("window", 30, 1, "EMA period")};
  d.warmup_rows = [](const registry::Params& p) { return 2 * p.get_int("window") - 1; };
  d.warmup_doc = "2*window - 1";
  d.settling_window = [](const registry::Params& p) { return p.get_int("window"); };
  return d;
}

Result<std::unique_ptr<Feature>> make_dema(const FeatureContext& ctx) {
  return make_feature<Dema>(ctx.params.get_int("window"));
}

}  // namespace af::features
