#include "transforms/register_builtins.hpp"

#include <memory>

#include "common/interval.hpp"
#include "transforms/align.hpp"
#include "transforms/resample.hpp"
#include "registry/descriptor.hpp"
#include "registry/param.hpp"

namespace af::transforms {
namespace {

// The one rule both the descriptor (validation) and the factory apply.
std::optional<int64_t> resample_interval(const registry::Params& p, int64_t input_ms, std::string& error) {
  const std::string& name = p.get_string("target_freq");
  const auto target = parse_frequency(name);
  if (!target) {
    error = "target_freq '" + name + "' is not a frequency that divides a day";
    return std::nullopt;
  }
  if (input_ms <= 0) {
    error = "resample needs an input frame with an interval";
    return std::nullopt;
  }
  if (*target < input_ms) {
    error = "target_freq " + name + " is shorter than the input interval " + interval_name(input_ms);
    return std::nullopt;
  }
  if (*target % input_ms != 0) {
    error = "target_freq " + name + " is not a multiple of the input interval " + interval_name(input_ms);
    return std::nullopt;
  }
  return target;
}

registry::Descriptor resample_descriptor() {
  registry::Descriptor d;
  d.name = "transforms.resample";
  d.kind = registry::PluginKind::kTransform;
  d.summary = "OHLCV aggregation into epoch-aligned buckets of a coarser interval";
  d.doc =
      "Aggregates the input frame's bars into buckets of `target_freq` aligned to the UTC epoch: open = first "
      "open, high = max, low = min, close = last close; volume, quote_volume, trades, taker_buy_volume and "
      "taker_buy_quote_volume are summed. The output row's `ts` is the bucket's start (open time). A bucket is "
      "emitted when its last constituent bar arrives; a bucket missing constituents is emitted, marked "
      "incomplete and logged, when that last bar arrives or else when the first bar of a later bucket arrives. "
      "No bar, no bucket: an empty bucket is never invented. `target_freq` must be a multiple of the input "
      "interval (equal is allowed: a pass-through) and divide a day; it may be written as Binance does (`2h`) or "
      "as pandas does (`2H`, `120min`, `120T`, `1D`), and need not be a Binance interval (`3h`, `45m`). Binance's coarse Vision files are exactly this "
      "aggregation of its finer ones.";
  d.params = {registry::ParamSpec{.name = "target_freq",
                                  .type = registry::ParamType::kFrequency,
                                  .required = true,
                                  .doc = "interval of the output frame, a multiple of the input interval: a Binance "
                                         "interval or pandas' spelling (2H, 120min, 120T, 1D), any length dividing "
                                         "a day (3h, 45m)"}};
  d.input = registry::InputKind::kFrame;
  d.output = registry::OutputKind::kFrame;
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1 output row (the compiler converts through the ratio)";
  d.frame_interval = resample_interval;
  return d;
}

registry::Descriptor align_descriptor() {
  registry::Descriptor d;
  d.name = "transforms.align";
  d.kind = registry::PluginKind::kTransform;
  d.summary = "one row per symbol for every ts of the frame's grid, gaps filled from the last close";
  d.doc =
      "Puts every symbol on the grid of the input frame's interval. A real bar passes through with "
      "`filled = 0`. When a bar at ts t arrives (for any symbol), every symbol that already had a bar and "
      "whose last row is older than t - interval first gets filled rows up to t - interval: open = high = "
      "low = close = its previous close, zero volumes and trades, `filled = 1`. A symbol with no bar yet "
      "gets no filled rows. So a missing row appears as soon as the next ts begins, in replay and live "
      "alike; a bar arriving after its slot was filled is dropped and logged.";
  d.input = registry::InputKind::kFrame;
  d.output = registry::OutputKind::kFrame;
  // A filled row of one symbol appears when another symbol's later bar arrives.
  d.needs_all_symbols = true;
  d.extra_frame_columns.emplace_back("filled");
  d.warmup_rows = [](const registry::Params&) -> int64_t { return 1; };
  d.warmup_doc = "1 row: a filled or real row is valid at once";
  d.frame_interval = [](const registry::Params&, int64_t input_ms, std::string& error) -> std::optional<int64_t> {
    if (input_ms <= 0) {
      error = "align needs an input frame with an interval";
      return std::nullopt;
    }
    return input_ms;
  };
  return d;
}

}  // namespace

void register_builtins(TransformRegistry& registry) {
  registry.add(resample_descriptor(), [](const TransformContext& ctx) -> Result<std::unique_ptr<Transform>> {
    std::string error;
    const auto target = resample_interval(ctx.params, ctx.input_interval_ms, error);
    if (!target) return make_error("transforms.resample: " + error);
    return std::unique_ptr<Transform>(std::make_unique<Resample>(ctx.input_interval_ms, *target, ctx.symbols.size()));
  });
  registry.add(align_descriptor(), [](const TransformContext& ctx) -> Result<std::unique_ptr<Transform>> {
    if (ctx.input_interval_ms <= 0) return make_error("transforms.align: the input frame has no interval");
    return std::unique_ptr<Transform>(std::make_unique<Align>(ctx.input_interval_ms, ctx.symbols.size()));
  });
}

}  // namespace af::transforms
