#include "models/checkpoint_locator.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace af::models {

namespace fs = std::filesystem;

namespace {

bool is_torch_file(const fs::path& p) { return p.extension() == ".pt" || p.extension() == ".pth"; }

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

Result<CheckpointFiles> torch_files(const fs::path& dir, const fs::path& file) {
  const fs::path meta = fs::path(file).replace_extension(".json");
  std::error_code ec;
  if (!fs::is_regular_file(meta, ec))
    return make_error(file.string() + ": its metadata " + meta.filename().string() +
                      " (input columns, normalisation, window) is missing; write it with "
                      "`/usr/bin/python3 tools/export_bilstm.py " + file.filename().string() +
                      " --meta-only --columns c1,c2,...` (docs/models.md)");
  return CheckpointFiles{CheckpointFormat::kTorchSave, dir.string(), meta.string(), file.string()};
}

}  // namespace

Result<CheckpointFiles> locate_checkpoint(const std::string& dir_text, const std::optional<std::string>& stem) {
  const fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error("checkpoint_dir '" + dir_text + "' is not a directory");
  std::vector<std::string> torch_names;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && is_torch_file(entry.path())) torch_names.push_back(entry.path().filename().string());
  if (ec) return make_error("checkpoint_dir '" + dir_text + "': cannot list: " + ec.message());
  std::sort(torch_names.begin(), torch_names.end());

  if (stem) {
    const bool pt = fs::is_regular_file(dir / (*stem + ".pt"), ec);
    const bool pth = fs::is_regular_file(dir / (*stem + ".pth"), ec);
    if (pt && pth)
      return make_error("checkpoint_dir '" + dir_text + "' holds both " + *stem + ".pt and " + *stem +
                        ".pth: model_ref cannot tell which to load");
    if (pt || pth) return torch_files(dir, dir / (*stem + (pt ? ".pt" : ".pth")));
  }
  // Without a torch.save file the directory is a portable export, whose loader
  // names the file that is missing.
  if (fs::exists(dir / "config.json", ec) || torch_names.empty())
    return CheckpointFiles{CheckpointFormat::kSafetensors, dir_text, (dir / "config.json").string(),
                           (dir / "weights.safetensors").string()};
  if (torch_names.size() == 1) return torch_files(dir, dir / torch_names[0]);
  const std::string chosen = stem ? "model_ref names '" + *stem + "', which is none of them"
                                  : "set model_ref to '<stem>.<strategy>' to choose one";
  return make_error("checkpoint_dir '" + dir_text + "' holds several checkpoints (" + join(torch_names) + "): " + chosen);
}

}  // namespace af::models
