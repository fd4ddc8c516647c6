#pragma once
// Diagnostics for a bad pipeline: every problem is collected (not just the first)
// and printed as `file:line:col: error: <yaml path>: message (did you mean 'x'?)`.

#include <string>
#include <vector>

namespace af {

struct SourceMark {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;
  SourceMark mark;
  std::string path;     // YAML path, e.g. "pipeline[2].features.params.window"
  std::string message;  // already includes any "(did you mean ...?)"

  std::string to_string() const;  // the one-line form above
};

class Diagnostics {
 public:
  void error(std::string file, SourceMark mark, std::string path, std::string message);
  void warning(std::string file, SourceMark mark, std::string path, std::string message);
  void add(Diagnostic d) { items_.push_back(std::move(d)); }

  bool has_errors() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  std::vector<Diagnostic> errors() const;
  std::vector<Diagnostic> warnings() const;

  // Stable order: by line, then column, then message.
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace af
