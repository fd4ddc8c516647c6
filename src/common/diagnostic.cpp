#include "common/diagnostic.hpp"

#include <algorithm>

namespace af {

std::string Diagnostic::to_string() const {
  std::string out = file.empty() ? std::string("<pipeline>") : file;
  if (mark.line > 0) {
    out += ':' + std::to_string(mark.line);
    if (mark.column > 0) out += ':' + std::to_string(mark.column);
  }
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

void Diagnostics::error(std::string file, SourceMark mark, std::string path, std::string message) {
  items_.push_back({Severity::kError, std::move(file), mark, std::move(path), std::move(message)});
}

void Diagnostics::warning(std::string file, SourceMark mark, std::string path, std::string message) {
  items_.push_back({Severity::kWarning, std::move(file), mark, std::move(path), std::move(message)});
}

bool Diagnostics::has_errors() const {
  return std::any_of(items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::vector<Diagnostic> Diagnostics::errors() const {
  std::vector<Diagnostic> out;
  for (const auto& d : items_)
    if (d.severity == Severity::kError) out.push_back(d);
  return out;
}

std::vector<Diagnostic> Diagnostics::warnings() const {
  std::vector<Diagnostic> out;
  for (const auto& d : items_)
    if (d.severity == Severity::kWarning) out.push_back(d);
  return out;
}

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.mark.line != b.mark.line) return a.mark.line < b.mark.line;
    if (a.mark.column != b.mark.column) return a.mark.column < b.mark.column;
    return a.message < b.message;
  });
}

}  // namespace af
