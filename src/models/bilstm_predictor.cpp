#include "models/bilstm_predictor.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "models/bilstm_checkpoint.hpp"
#include "models/checkpoint_locator.hpp"
#include "models/column_lookup.hpp"
#include "registry/descriptor.hpp"
#include "registry/param.hpp"

namespace af::models {

namespace {

constexpr const char* kName = "models.pytorch_bilstm_predictor";

// One loaded checkpoint and where its input columns sit in the frame's rows.
struct Member {
  BilstmCheckpoint checkpoint;
  std::vector<int> columns;
};

// The plugin's Model: one instance per model step. `unified` has one Member for
// every symbol; `per_symbol` one per SymbolId. Holds scratch buffers only, no
// state between calls. Owned by the Engine; compute thread only.
class BilstmPredictor final : public Model {
 public:
  // unified: members holds one checkpoint; per_symbol: member_of_symbol[SymbolId]
  // indexes members.
  BilstmPredictor(int64_t window, std::vector<std::shared_ptr<Member>> members, std::vector<size_t> member_of_symbol)
      : window_(window),
        unified_(member_of_symbol.empty()),
        members_(std::move(members)),
        member_of_symbol_(std::move(member_of_symbol)) {
    size_t widest = 1;
    for (const auto& m : members_) widest = std::max(widest, m->columns.size());
    inputs_.assign(static_cast<size_t>(LstmNet::kMaxGroup) * static_cast<size_t>(window_) * widest, 0.0f);
    for (int g = 0; g < LstmNet::kMaxGroup; ++g)
      slots_[g] = inputs_.data() + static_cast<size_t>(g) * static_cast<size_t>(window_) * widest;
  }

  BilstmPredictor(const BilstmPredictor&) = delete;  // slots_ point into inputs_
  BilstmPredictor& operator=(const BilstmPredictor&) = delete;

  int64_t window() const override { return window_; }

  // unified: one set of weights for every symbol, so a batch shares each weight
  // load across up to kMaxGroup samples (about half the cost per prediction).
  size_t preferred_batch() const override { return unified_ ? static_cast<size_t>(LstmNet::kMaxGroup) : 1; }

  double predict(SymbolId symbol, const SymbolSeries& series) override {
    Member& m = member(symbol);
    if (!gather(m, series, slots_[0])) return kNaN;
    float y = 0;
    m.checkpoint.net->forward(slots_, 1, static_cast<int>(window_), &y);
    return scaled(m, y);
  }

  void predict_batch(std::span<const SymbolId> symbols, std::span<const SymbolSeries* const> series,
                     std::span<double> out) override {
    if (!unified_) {
      // per_symbol: every symbol has its own weights, nothing to share.
      for (size_t i = 0; i < symbols.size(); ++i) out[i] = predict(symbols[i], *series[i]);
      return;
    }
    Member& m = *members_[0];
    size_t pending[LstmNet::kMaxGroup];
    int n = 0;
    auto flush = [&] {
      float y[LstmNet::kMaxGroup];
      m.checkpoint.net->forward(slots_, n, static_cast<int>(window_), y);
      for (int g = 0; g < n; ++g) out[pending[g]] = scaled(m, y[g]);
      n = 0;
    };
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (!gather(m, *series[i], slots_[n])) {
        out[i] = kNaN;
        continue;
      }
      pending[n++] = i;
      if (n == LstmNet::kMaxGroup) flush();
    }
    if (n > 0) flush();
  }

 private:
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  Member& member(SymbolId symbol) {
    return unified_ ? *members_[0] : *members_[member_of_symbol_.at(symbol)];
  }

  static double scaled(const Member& m, float y) {
    return static_cast<double>(y) * m.checkpoint.output_scale + m.checkpoint.output_offset;
  }

  // Copies the window's inputs, oldest row first, normalised; false when the
  // window is not full or any input in it is not finite (no prediction then).
  bool gather(const Member& m, const SymbolSeries& series, float* dst) const {
    if (series.size() < static_cast<size_t>(window_)) return false;
    const size_t nc = m.columns.size();
    for (int64_t t = 0; t < window_; ++t) {
      const double* row = series.row(static_cast<size_t>(window_ - 1 - t));
      float* out = dst + static_cast<size_t>(t) * nc;
      for (size_t c = 0; c < nc; ++c) {
        const double x = row[m.columns[c]];
        if (!std::isfinite(x)) return false;
        out[c] = static_cast<float>((x - m.checkpoint.mean[c]) / m.checkpoint.std_dev[c]);
      }
    }
    return true;
  }

  int64_t window_;
  bool unified_;
  std::vector<std::shared_ptr<Member>> members_;
  std::vector<size_t> member_of_symbol_;
  std::vector<float> inputs_;  // kMaxGroup windows of normalised inputs
  float* slots_[LstmNet::kMaxGroup] = {};
};

// `max_group`: per_symbol nets only ever run one sample at a time, so their
// scratch is sized for one (200 symbols x a full group would waste memory).
// `stem`: the checkpoint model_ref names, when the directory holds several.
Result<std::shared_ptr<Member>> load_member(const std::string& dir, const std::optional<std::string>& stem,
                                            const ModelContext& ctx, int64_t window, int max_group) {
  auto files = locate_checkpoint(dir, stem);
  if (!files.ok()) return make_error(std::string(kName) + ": " + files.error().message);
  auto ck = load_bilstm_checkpoint(*files, static_cast<int>(window), max_group);
  if (!ck.ok()) return make_error(std::string(kName) + ": " + ck.error().message);
  if (ck->window_size && *ck->window_size != window)
    return make_error(std::string(kName) + ": window_size " + std::to_string(window) + " but the checkpoint in '" + dir +
                      "' was trained on windows of " + std::to_string(*ck->window_size) + " rows");
  auto columns = resolve_input_columns(ck->input_columns, ctx, std::string(kName) + " (checkpoint '" + dir + "')");
  if (!columns.ok()) return columns.error();
  if (files->format == CheckpointFormat::kTorchSave)
    logger("models")->info("{} checkpoint={} state_dict={}", kName, files->weights,
                           ck->state_dict_key.empty() ? "(the whole file)" : ck->state_dict_key);
  auto m = std::make_shared<Member>();
  m->checkpoint = std::move(*ck);
  m->columns = std::move(*columns);
  return m;
}

Result<std::unique_ptr<Model>> make_predictor(const ModelContext& ctx) {
  const auto& p = ctx.params;
  const int64_t window = p.get_int("window_size");
  const std::string& strategy = p.get_string("strategy");
  const std::string& dir = p.get_string("checkpoint_dir");
  if (window < 1) return make_error(std::string(kName) + ": window_size must be >= 1");
  if (window > ctx.frame_capacity)
    return make_error(std::string(kName) + ": window_size " + std::to_string(window) + " exceeds the frame's capacity of " +
                      std::to_string(ctx.frame_capacity) + " rows per symbol");
  // model_ref is `name.strategy` as the Python original writes it; `name` is the
  // stem of the torch.save file to load when the directory holds several.
  std::optional<std::string> stem;
  if (ctx.model_ref) {
    const auto dot = ctx.model_ref->rfind('.');
    const std::string suffix = dot == std::string::npos ? "" : ctx.model_ref->substr(dot + 1);
    if ((suffix == "unified" || suffix == "per_symbol") && suffix != strategy)
      return make_error(std::string(kName) + ": model_ref '" + *ctx.model_ref + "' names a " + suffix +
                        " model but strategy is " + strategy);
    stem = suffix == strategy ? ctx.model_ref->substr(0, dot) : *ctx.model_ref;
  }
  std::vector<std::shared_ptr<Member>> members;
  std::vector<size_t> member_of_symbol;
  if (strategy == "per_symbol") {
    for (const auto& symbol : ctx.symbols) {
      auto m = load_member((std::filesystem::path(dir) / symbol).string(), stem, ctx, window, 1);
      if (!m.ok()) return m.error();
      member_of_symbol.push_back(members.size());
      members.push_back(std::move(*m));
    }
    if (members.empty()) return make_error(std::string(kName) + ": per_symbol strategy with an empty universe");
  } else {
    auto m = load_member(dir, stem, ctx, window, LstmNet::kMaxGroup);
    if (!m.ok()) return m.error();
    members.push_back(std::move(*m));
  }
  const auto& first = members[0]->checkpoint;
  logger("models")->info(
      "loaded {} strategy={} checkpoints={} window={} inputs={} hidden={} layers={} bidirectional={} kernel={}", kName,
      strategy, members.size(), window, first.shape.input_size, first.shape.hidden_size, first.shape.num_layers,
      first.shape.bidirectional, first.net->kernel_name());
  return std::unique_ptr<Model>(new BilstmPredictor(window, std::move(members), std::move(member_of_symbol)));
}

}  // namespace

void register_bilstm_predictor(ModelRegistry& registry) {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d;
  d.name = kName;
  d.kind = registry::PluginKind::kModel;
  d.summary = "PyTorch (bi)LSTM + linear head over the last window_size rows, run natively";
  d.doc =
      "Runs `fc(lstm(x)[:, -1, :])` (nn.LSTM with batch_first, any number of layers, uni- or "
      "bidirectional, and an nn.Linear head with one output) over the last `window_size` rows of the "
      "checkpoint's input columns, oldest first, each normalised as `(x - mean) / std`; the prediction is "
      "`head * scale + offset`. `checkpoint_dir` holds `config.json` and `weights.safetensors` as written by "
      "`tools/export_bilstm.py`, or what training wrote with `torch.save` (a state_dict, bare or in a dict under "
      "`state_dict`, `model_state_dict` or `model`; `.pt`/`.pth`) with a `<stem>.json` of columns and "
      "normalisation beside it, read without running any pickle code (formats in docs/models.md); relative "
      "paths are relative to the working directory. When the directory holds several torch.save files, "
      "`model_ref: <stem>.<strategy>` selects `<stem>.pt`. `strategy: unified` loads `checkpoint_dir` itself "
      "for every symbol; `per_symbol` loads `checkpoint_dir/<SYMBOL>/` for each symbol of the universe. No prediction (NaN) while the window is "
      "not full or when any input in it is NaN. Everything about the checkpoint (columns, shapes, files) "
      "is checked at start-up. Float32 arithmetic; equal to PyTorch to 1e-5; a prediction is bit-identical "
      "whether computed alone or batched with other symbols.";
  d.params = {
      ParamSpec{"strategy", ParamType::kChoice, false, std::string("unified"), {}, {}, {"unified", "per_symbol"},
                "unified: one checkpoint for every symbol; per_symbol: checkpoint_dir/<SYMBOL>/ per symbol"},
      ParamSpec{"window_size", ParamType::kInt, true, {}, 1.0, {}, {}, "rows of history per prediction"},
      ParamSpec{"output_col", ParamType::kString, false, {}, {}, {}, {},
                "the emitted column (the step's output column name)"},
      ParamSpec{"checkpoint_dir", ParamType::kString, true, {}, {}, {}, {},
                "directory with config.json + weights.safetensors, or a torch.save file (.pt/.pth) + its .json "
                "(relative: to the working directory)"},
  };
  d.input = registry::InputKind::kFrame;
  d.output = registry::OutputKind::kColumns;
  d.min_outputs = 1;
  d.max_outputs = 1;
  d.output_docs = {"the prediction"};
  d.warmup_rows = [](const registry::Params& p) -> int64_t { return p.has("window_size") ? p.get_int("window_size") : 1; };
  d.warmup_doc = "window_size";
  registry.add(std::move(d), make_predictor);
}

}  // namespace af::models
