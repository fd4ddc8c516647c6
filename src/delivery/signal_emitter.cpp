#include "delivery/signal_emitter.hpp"

#include <cassert>

namespace af {
namespace {

void join_error(std::string& out, const std::string& message) {
  if (!out.empty()) out += "; ";
  out += message;
}

}  // namespace

SignalEmitter::SignalEmitter(SinkWorkerOptions defaults) : defaults_(std::move(defaults)) {}

SignalEmitter::~SignalEmitter() {
  if (opened_ && !closed_) (void)close();  // each worker logs its own errors
}

void SignalEmitter::set_spool_dir(std::string dir) {
  assert(!opened_ && "set_spool_dir after open_all");
  spool_dir_ = std::move(dir);
}

std::string SignalEmitter::spool_path(const std::string& dir, const std::string& sink_name) {
  // "sinks.csv_append[0]" -> "sinks.csv_append_0_.spool": one flat, portable file name.
  std::string file;
  for (char c : sink_name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
    file += keep ? c : '_';
  }
  return dir + (dir.empty() || dir.back() == '/' ? "" : "/") + file + ".spool";
}

void SignalEmitter::add(std::string name, std::unique_ptr<Sink> sink, std::optional<SinkWorkerOptions> options) {
  assert(!opened_ && "SignalEmitter::add after open_all");
  SinkWorkerOptions o = options ? std::move(*options) : defaults_;
  workers_.push_back(std::make_unique<SinkWorker>(std::move(name), std::move(sink), std::move(o)));
}

Status SignalEmitter::open_all() {
  start_all();
  return wait_open_all();
}

void SignalEmitter::start_all() {
  assert(!opened_ && "SignalEmitter::open_all called twice");
  opened_ = true;
  for (auto& w : workers_) {
    if (w->options().spool_path.empty() && !spool_dir_.empty()) w->set_spool_path(spool_path(spool_dir_, w->name()));
    w->start();
  }
}

Status SignalEmitter::wait_open_all() {
  assert(opened_ && "SignalEmitter::wait_open_all before start_all");
  if (open_status_) return *open_status_;
  std::string errors;
  for (auto& w : workers_) {
    if (Status st = w->wait_open(); !st) join_error(errors, st.error().message);
  }
  open_status_ = errors.empty() ? Status{} : Status{make_error(errors)};
  return *open_status_;
}

void SignalEmitter::emit(const PredictionRecord& record) {
  for (auto& w : workers_) w->push(record);
}

Status SignalEmitter::close() {
  if (closed_) return close_status_;
  closed_ = true;
  std::string errors;
  for (auto& w : workers_) {
    if (Status st = w->close(); !st) join_error(errors, st.error().message);
  }
  close_status_ = errors.empty() ? Status{} : Status{make_error(errors)};
  return close_status_;
}

std::vector<SinkStats> SignalEmitter::stats() const {
  std::vector<SinkStats> out;
  out.reserve(workers_.size());
  for (const auto& w : workers_) out.push_back(w->stats());
  return out;
}

Status SignalEmitter::status() const {
  std::string errors;
  for (const auto& w : workers_) {
    if (Status st = w->status(); !st) join_error(errors, st.error().message);
  }
  if (!errors.empty()) return make_error(errors);
  return {};
}

}  // namespace af

namespace af {

bool SignalEmitter::settled() const {
  for (const auto& w : workers_) {
    if (!w->settled()) return false;
  }
  return true;
}

std::optional<int64_t> SignalEmitter::last_ts_held(const std::string& dag_name, const std::string& symbol) const {
  assert(opened_ && "last_ts_held before open_all");
  std::optional<int64_t> oldest;
  for (const auto& w : workers_) {
    const auto ts = w->last_ts(dag_name, symbol);
    if (ts && (!oldest || *ts < *oldest)) oldest = ts;
  }
  return oldest;
}

}  // namespace af
