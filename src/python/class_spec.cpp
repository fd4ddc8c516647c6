#include "python/class_spec.hpp"

#include <filesystem>

namespace af::python {
namespace {

bool identifier(const std::string& s) {
  if (s.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// "a.b.c": each part an identifier.
bool dotted(const std::string& s) {
  size_t start = 0;
  for (;;) {
    const size_t dot = s.find('.', start);
    if (!identifier(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

Result<ClassSpec> parse_class_spec(const std::string& text, const std::string& pipeline_file) {
  const std::string form = "class '" + text + "' expects module:Class or path/to/file.py:Class";
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return make_error(form);
  ClassSpec spec;
  spec.class_name = text.substr(colon + 1);
  if (!dotted(spec.class_name)) return make_error(form + " ('" + spec.class_name + "' is not a Python name)");
  const std::string left = text.substr(0, colon);
  std::filesystem::path dir = std::filesystem::path(pipeline_file).parent_path();
  spec.base_dir = dir.empty() ? "." : dir.string();
  if (left.size() > 3 && left.compare(left.size() - 3, 3, ".py") == 0) {
    spec.kind = ClassSpec::Kind::kFile;
    const std::filesystem::path p(left);
    spec.target = (p.is_absolute() ? p : std::filesystem::path(spec.base_dir) / p).lexically_normal().string();
    return spec;
  }
  if (!dotted(left)) return make_error(form + " ('" + left + "' is neither a module name nor a .py file)");
  spec.kind = ClassSpec::Kind::kModule;
  spec.target = left;
  return spec;
}

std::string class_spec_problem(const std::string& text, const std::string& pipeline_file) {
  auto spec = parse_class_spec(text, pipeline_file);
  if (!spec) return spec.error().message;
  if (spec->kind == ClassSpec::Kind::kFile) {
    std::error_code ec;
    const auto st = std::filesystem::status(spec->target, ec);
    if (ec || !std::filesystem::exists(st)) return "class '" + text + "': no file " + spec->target;
    if (!std::filesystem::is_regular_file(st)) return "class '" + text + "': " + spec->target + " is not a file";
  }
  return {};
}

}  // namespace af::python
