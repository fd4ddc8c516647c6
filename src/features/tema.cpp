// features.tema: triple exponential moving average (TA-Lib TEMA).

#include "features/builtins.hpp"
#include "features/feature_helpers.hpp"
#include "features/ta_ema.hpp"

namespace af::features {
namespace {

// Tema: one (step, symbol); three chained EMAs. Compute thread.
class Tema final : public Feature {
 public:
  explicit Tema(int64_t window) : e1_(window), e2_(window), e3_(window) {}

  void update(std::span<const double> in, std::span<double> out) override {
    const double a = e1_.update(in[0]);
    if (!e1_.ready()) return;
    const double b = e2_.update(a);
    if (!e2_.ready()) return;
    const double c = e3_.update(b);
    if (e3_.ready()) out[0] = (3.0 * a) - (3.0 * b) + c;
  }
  void save(StateWriter& w) const override {
    e1_.save(w);
    e2_.save(w);
    e3_.save(w);
  }
  bool load(StateReader& r) override { return e1_.load(r) && e2_.load(r) && e3_.load(r); }

 private:
  TaEma e1_, e2_, e3_;
};

}  // namespace

registry::Descriptor tema_descriptor() {
  auto d = feature_descriptor(
      "features.tema", "Triple exponential moving average (TA-Lib TEMA)",
      "`e1 = EMA(x, window)`, `e2 = EMA(e1, window)`, `e3 = EMA(e2, window)` (each seeded with the mean "
      "of its first `window` inputs); `tema = 3*e1 - 3*e2 + e3`.",
      {}, {"TEMA"}, 1);
  d.params = {int_param("window", 30, 1, "EMA period")};
  d.warmup_rows = [](const registry::Params& p) { return 3 * p.get_int("window") - 2; };
  d.warmup_doc = "3*window - 2";
  d.settling_window = [](const registry::Params& p) { return p.get_int("window"); };
  return d;
}

Result<std::unique_ptr<Feature>> make_tema(const FeatureContext& ctx) {
  return make_feature<Tema>(ctx.params.get_int("window"));
}

}  // namespace af::features
