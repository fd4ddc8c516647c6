#include "nats/stream_admin.hpp"

#include <limits>

#include "common/log.hpp"
#include "nats/nats_error.hpp"
#include "nats/subject.hpp"

namespace af::nats {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

StreamDescription describe(const jsStreamInfo& si) {
  StreamDescription d;
  for (int i = 0; i < si.Config->SubjectsLen; ++i) d.subjects.emplace_back(si.Config->Subjects[i]);
  d.max_age_ms = si.Config->MaxAge / kNsPerMs;
  d.duplicate_window_ms = si.Config->Duplicates / kNsPerMs;
  d.replicas = static_cast<int>(si.Config->Replicas);
  d.messages = si.State.Msgs;
  return d;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Fetches the stream's info: the description, nullopt when it does not exist, or an error.
Result<std::optional<StreamDescription>> lookup(BusConnection& bus, const std::string& name) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, bus.jetstream(), name.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) return std::optional<StreamDescription>();
  if (s != NATS_OK) return nats_error("look up stream " + name + " on " + bus.bus(), s, code);
  auto d = describe(*si);
  jsStreamInfo_Destroy(si);
  return std::optional<StreamDescription>(std::move(d));
}

}  // namespace

Result<StreamDescription> describe_stream(BusConnection& bus, const std::string& name) {
  auto found = lookup(bus, name);
  if (!found) return found.error();
  if (!found->has_value()) return make_error("NATS stream " + name + " does not exist on " + bus.bus());
  return std::move(**found);
}

Result<StreamDescription> ensure_stream(BusConnection& bus, const StreamSpec& spec, bool create) {
  auto found = lookup(bus, spec.name);
  if (!found) return found.error();
  if (found->has_value()) {
    StreamDescription d = std::move(**found);
    for (const auto& wanted : spec.required_subjects.empty() ? spec.subjects : spec.required_subjects) {
      bool covered = false;
      for (const auto& filter : d.subjects) covered = covered || subject_covers(filter, wanted);
      if (!covered) {
        return make_error("NATS stream " + spec.name + " on " + bus.bus() + " takes subjects [" + join(d.subjects) +
                          "], not " + wanted + " (use another stream name, or add the subject to this stream)");
      }
    }
    return d;
  }
  if (!create) {
    return make_error("NATS stream " + spec.name + " does not exist on " + bus.bus() +
                      " (create it, or let this process create it)");
  }

  constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / kNsPerMs;
  if (spec.max_age_ms < 0 || spec.max_age_ms > kMaxMs || spec.duplicate_window_ms < 0 ||
      spec.duplicate_window_ms > kMaxMs || spec.replicas < 1 || spec.replicas > 5) {
    return make_error("NATS stream " + spec.name + ": retention " + std::to_string(spec.max_age_ms) +
                      " ms, duplicate window " + std::to_string(spec.duplicate_window_ms) + " ms or replicas " +
                      std::to_string(spec.replicas) + " out of range (ages 0.." + std::to_string(kMaxMs) +
                      " ms, replicas 1..5)");
  }
  std::vector<const char*> subjects;
  for (const auto& s : spec.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Retention = js_LimitsPolicy;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = spec.replicas;
  cfg.MaxAge = spec.max_age_ms * kNsPerMs;
  cfg.Duplicates = spec.duplicate_window_ms * kNsPerMs;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&si, bus.jetstream(), &cfg, nullptr, &code);
  if (s != NATS_OK) {
    if (code == JSStreamNameExistErr) return ensure_stream(bus, spec, false);  // another process created it first
    return nats_error("create stream " + spec.name + " [" + join(spec.subjects) + "] on " + bus.bus(), s, code);
  }
  StreamDescription d = describe(*si);
  d.created = true;
  jsStreamInfo_Destroy(si);
  logger("nats")->info("stream created stream={} subjects={} max_age_ms={} replicas={} duplicate_window_ms={}", spec.name,
                       join(d.subjects), d.max_age_ms, d.replicas, d.duplicate_window_ms);
  return d;
}

}  // namespace af::nats
