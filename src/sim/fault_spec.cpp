#include "sim/fault_spec.hpp"

#include <charconv>
#include <fmt/format.h>
#include <utility>
#include <vector>

#include "common/did_you_mean.hpp"

namespace af::sim {
namespace {

struct Field {
  const char* name;
  double FaultSpec::*member;
  double all_rate;  // the rate "all" sets
};

constexpr Field kFields[] = {
    {"disconnect", &FaultSpec::disconnect, 0.005},   {"stall", &FaultSpec::stall, 0.002},
    {"duplicate", &FaultSpec::duplicate, 0.05},      {"late_close", &FaultSpec::late_close, 0.05},
    {"missing_close", &FaultSpec::missing_close, 0.02}, {"reorder", &FaultSpec::reorder, 0.02},
    {"rest_429", &FaultSpec::rest_429, 0.05},        {"rest_418", &FaultSpec::rest_418, 0.005},
    {"corrupt_archive", &FaultSpec::corrupt_archive, 0.1}, {"huge_zip", &FaultSpec::huge_zip, 0.05},
    // Not part of "all": every stalled download holds the client until its read timeout.
    {"stall_archive", &FaultSpec::stall_archive, 0},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string FaultSpec::text() const {
  std::string out;
  for (const Field& f : kFields) {
    if (this->*(f.member) > 0) out += fmt::format("{}={},", f.name, this->*(f.member));
  }
  out += fmt::format("seed={}", seed);
  return out;
}

Result<FaultSpec> parse_fault_spec(std::string_view text) {
  FaultSpec spec;
  text = trim(text);
  if (text.empty() || text == "none") return spec;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) continue;
    if (item == "all") {
      for (const Field& f : kFields) spec.*(f.member) = f.all_rate;
      continue;
    }
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(fmt::format("--faults: '{}' is not key=value (or 'all')", item));
    }
    const std::string_view key = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));
    if (key == "seed") {
      uint64_t seed = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seed);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return make_error(fmt::format("--faults: seed '{}' is not an unsigned integer", value));
      }
      spec.seed = seed;
      continue;
    }
    const Field* field = nullptr;
    for (const Field& f : kFields) {
      if (key == f.name) field = &f;
    }
    if (field == nullptr) {
      std::vector<std::string> names{"seed", "all"};
      for (const Field& f : kFields) names.emplace_back(f.name);
      const std::string hint = did_you_mean(key, names);
      return make_error(fmt::format("--faults: unknown fault '{}'{}", key, hint));
    }
    double rate = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), rate);
    if (ec != std::errc() || end != value.data() + value.size() || !(rate >= 0 && rate <= 1)) {
      return make_error(fmt::format("--faults: {}='{}' is not a probability in [0, 1]", key, value));
    }
    spec.*(field->member) = rate;
  }
  return spec;
}

FaultRng::FaultRng(uint64_t seed, uint64_t stream) : state_(seed * 0x9E3779B97F4A7C15ULL ^ (stream + 0x632BE59BD9B4E019ULL)) {
  next();
}

uint64_t FaultRng::next() { return splitmix64(state_); }

double FaultRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

}  // namespace af::sim
