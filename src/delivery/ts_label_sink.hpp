#pragma once
// The one place a sink's `ts_label` is applied: with `close`, every record the
// sink sees carries the bar's close time (open + the prediction frame's
// interval), as the Python original labels rows. The sink keys, dedups and
// reports its high-water mark in that label; this wrapper turns the mark back
// into open time for the resume logic, so only the record as the sink sees it
// changes. Owned by the sink's worker; called from that worker's thread (and
// last_ts from any thread, like the wrapped sink's).

#include <memory>
#include <string>
#include <vector>

#include "runtime/sink.hpp"

namespace af {

enum class TsLabel { kOpen, kClose };  // the sink param `ts_label`, open when absent

// `sink` itself for kOpen; for kClose, a wrapper that adds `interval_ms` to each
// record's ts on the way in and subtracts it from last_ts on the way out.
std::unique_ptr<Sink> apply_ts_label(std::unique_ptr<Sink> sink, TsLabel label, int64_t interval_ms);

// The fingerprint a sink records beside what it keeps (the CSV `.plan` sidecar):
// the plan's for kOpen (files written before ts_label existed stay valid), a
// different one for kClose, so a file labelled one way is never appended to in
// the other silently.
std::string labelled_fingerprint(const std::string& plan_fingerprint, TsLabel label);

}  // namespace af
