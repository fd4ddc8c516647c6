#pragma once
// Test support: run a command line through the shell and capture its exit code
// and output; temporary directories that clean up after themselves.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "support/temp_dir.hpp"

namespace af::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

using test::TempDir;

// Runs `command` with /bin/sh; stdout and stderr are captured separately.
inline CommandResult run_command(const std::string& command) {
  TempDir tmp;
  const std::string out = tmp / "stdout";
  const std::string err = tmp / "stderr";
  const std::string full = command + " >" + out + " 2>" + err;
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

inline std::filesystem::path shared_data_dir() {
  const char* d = std::getenv("AF_SHARED_DIR");
  return std::filesystem::path(d ? d : "../shared") / "data";
}

}  // namespace af::testing
