#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "app/builtin_plugins.hpp"
#include "app/commands.hpp"
#include "app/frame_dump.hpp"
#include "app/sink_setup.hpp"
#include "common/log.hpp"
#include "common/number_format.hpp"
#include "common/terminal_progress.hpp"
#include "common/time.hpp"
#include "runtime/engine.hpp"
#include "runtime/replay_driver.hpp"
#include "runtime/threaded_replay.hpp"

namespace af::app {
namespace {

std::optional<int64_t> parse_time_arg(const std::string& flag, const std::string& value) {
  if (value.empty()) return std::nullopt;
  auto t = parse_iso8601(value);
  if (!t) {
    std::cerr << "error: " << flag << " '" << value
              << "' is not an ISO-8601 UTC date or time (e.g. 2023-09-01 or 2023-09-01T12:00:00Z)\n";
  }
  return t;
}

// The terminal's width in columns (80 when it does not say): a progress line
// longer than the terminal would wrap, and "\r" would no longer redraw it.
int terminal_columns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// "2024-04/2024-12 " : the month of the newest bar of the month the range ends in.
std::string month_position(const ReplayProgress& p) {
  if (p.end <= p.start) return format_iso8601(p.position).substr(0, 7);
  return format_iso8601(p.position).substr(0, 7) + "/" + format_iso8601(p.end - 1).substr(0, 7);
}

// The symbols of each compute thread (one part: run on the caller's thread, as
// ever). --threads N, default one per core; one thread, said why, when the
// pipeline or --dump needs a single thread's order.
std::vector<std::vector<std::string>> replay_threads(const ReplayArgs& args, const dag::Plan& plan) {
  const uint32_t threads = args.threads > 0 ? args.threads : std::max(1u, std::thread::hardware_concurrency());
  if (threads == 1) return {};
  std::string why;
  if (const auto* step = step_needing_all_symbols(plan))
    why = "`" + step->plugin + "` (" + step->path + ") needs every symbol at once";
  else if (!args.dumps.empty())
    why = "--dump writes a frame's rows in the order one thread makes them";
  if (!why.empty()) {
    // Said on stderr when threads were asked for, logged when they were only the default.
    if (args.threads > 1) std::cerr << "note: replay runs on one thread: " << why << '\n';
    else logger("replay")->info("replay runs on one thread: {}", why);
    return {};
  }
  return split_universe(plan, threads, args.shard ? args.shard->n : 1);
}

}  // namespace

int run_replay_command(const ReplayArgs& args) {
  PluginSet plugins;
  register_all_builtins(plugins);
  auto plan = load_plan(args.file, plugins, LoadMode::kRun, nullptr, args.shard);
  if (!plan) return kExitInvalid;
  if (args.dumps.empty() && !args.print_predictions &&
      !require_sinks(*plan, "replay", "give --dump FRAME=PATH or --print to run without"))
    return kExitInvalid;

  std::error_code ec;
  if (!std::filesystem::is_directory(args.data_dir, ec)) {
    std::cerr << "error: --data " << args.data_dir << ": no such directory\n";
    return kExitFailure;
  }
  ReplayOptions options;
  options.data_dir = args.data_dir;
  options.bar_cache = !args.no_cache;
  if (!args.from.empty()) {
    options.from = parse_time_arg("--from", args.from);
    if (!options.from) return kExitInvalid;
  }
  if (!args.to.empty()) {
    options.to = parse_time_arg("--to", args.to);
    if (!options.to) return kExitInvalid;
  }
  options.gap_policy = args.gap_policy == "fail"    ? GapPolicy::kFail
                       : args.gap_policy == "reset" ? GapPolicy::kReset
                                                    : GapPolicy::kBridge;

  const std::string spool_dir = args.state_dir.empty() ? std::string() : args.state_dir + "/spool";
  // Replay can wait for a slow sink: nothing is dropped or spilled for speed.
  EmitterOptions delivery;
  delivery.spool_dir = spool_dir;
  delivery.backpressure = true;
  delivery.fresh = args.fresh;
  // The sinks open (a --fresh CSV truncated, a database connected) while the data is read.
  delivery.open_later = true;
  auto emitter = build_signal_emitter(*plan, plugins, delivery);
  if (!emitter) {
    std::cerr << "error: " << emitter.error().message << '\n';
    return kExitFailure;
  }
  SignalEmitter& sinks = **emitter;
  // Every replay thread waits here for the same answer, before its first bar.
  std::once_flag sinks_waited;
  Status sinks_open;
  bool sinks_failed_to_open = false;
  options.before_stream = [&sinks, &sinks_waited, &sinks_open, &sinks_failed_to_open] {
    std::call_once(sinks_waited, [&] {
      sinks_open = sinks.wait_open_all();
      sinks_failed_to_open = !sinks_open;
    });
    return sinks_open;
  };

  const bool print = args.print_predictions;
  auto deliver = [&sinks, print](const PredictionRecord& r) {
    sinks.emit(r);
    if (print)
      std::printf("%s %s %s\n", format_iso8601(r.ts).c_str(), r.symbol->c_str(), format_double(r.prediction).c_str());
  };
  // Several threads, each with its own engine (runtime/threaded_replay.hpp), or one engine here.
  std::unique_ptr<ThreadedReplay> threaded;
  std::unique_ptr<Engine> engine;
  if (const auto parts = replay_threads(args, *plan); parts.size() > 1) {
    auto t = ThreadedReplay::create(*plan, plugins, parts, deliver);
    if (!t) {
      std::cerr << "error: " << t.error().message << '\n';
      return kExitFailure;
    }
    threaded = std::move(t).value();
  } else {
    auto e = Engine::create(*plan, plugins, deliver);
    if (!e) {
      std::cerr << "error: " << e.error().message << '\n';
      return kExitFailure;
    }
    engine = std::move(e).value();
  }

  std::map<int, std::unique_ptr<FrameDump>> dumps;
  for (const auto& spec : args.dumps) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      std::cerr << "error: --dump '" << spec << "': expected FRAME=PATH\n";
      return kExitInvalid;
    }
    const std::string name = spec.substr(0, eq);
    const int frame = plan->frame_index(name);
    if (frame < 0) {
      std::string known;
      for (const auto& f : plan->frames) known += (known.empty() ? "" : ", ") + f.name;
      std::cerr << "error: --dump '" << spec << "': no frame '" << name << "' (frames: " << known << ")\n";
      return kExitInvalid;
    }
    auto d = FrameDump::open(spec.substr(eq + 1), engine->frame(static_cast<size_t>(frame)));
    if (!d) {
      std::cerr << "error: " << d.error().message << '\n';
      return kExitFailure;
    }
    dumps[frame] = std::move(d).value();
  }
  if (!dumps.empty()) {
    const Engine* e = engine.get();
    engine->set_row_observer([&dumps, e](int frame, SymbolId symbol, const SymbolSeries& series) {
      auto it = dumps.find(frame);
      if (it != dumps.end()) it->second->write_row(e->symbols().name(symbol), series);
    });
  }

  // A progress bar on stderr when it is a terminal; nothing of it otherwise (logs,
  // pipes and CI output stay free of carriage returns).
  TerminalProgress progress(stderr, ::isatty(STDERR_FILENO) == 1, steady_now_ms);
  const int64_t progress_started = steady_now_ms();
  if (progress.enabled()) {
    const size_t columns = static_cast<size_t>(std::max(20, terminal_columns() - 1));
    // The bar takes what the rest of the line (66 columns at most) leaves.
    const int bar_width = std::clamp(static_cast<int>(columns) - 66, 10, 40);
    options.on_progress = [&progress, progress_started, columns, bar_width](const ReplayProgress& p) {
      if (p.done) return progress.finish();
      progress.update([&] {
        const ProgressSample sample{p.bars, p.expected_bars, steady_now_ms() - progress_started};
        std::string line = format_progress_bar(sample, "replay", month_position(p), bar_width);
        if (line.size() > columns) line.resize(columns);
        return line;
      });
    };
  }
  auto report = threaded ? threaded->run(options) : run_replay(*engine, plugins, options);
  progress.finish();
  int exit_code = kExitOk;
  if (!report) {
    std::cerr << "error: " << report.error().message << '\n';
    exit_code = kExitFailure;
  }
  for (auto& [frame, d] : dumps) {
    if (auto st = d->close(); !st) {
      std::cerr << "error: " << st.error().message << '\n';
      exit_code = kExitFailure;
    }
  }
  // A sink that could not open was reported as the replay's error; its close says it again.
  if (auto st = sinks.close(); !st && !sinks_failed_to_open) {
    std::cerr << "error: " << st.error().message << '\n';
    exit_code = kExitFailure;
  }
  if (report) {
    const EngineStats s = threaded ? threaded->stats() : engine->stats();
    const uint64_t predictions = threaded ? threaded->predictions() : engine->emitter().emitted();
    const uint64_t nan_skipped = threaded ? threaded->nan_skipped() : engine->emitter().nan_skipped();
    std::cout << "replay " << plan->name << (args.shard ? " shard " + args.shard->to_string() : "") << ": anchor=" << format_iso8601(report->anchor)
              << " history_start=" << format_iso8601(report->history_start)
              << " history_bars=" << report->history_bars << " streamed_bars=" << report->streamed_bars
              << " predictions=" << predictions << " nan_skipped=" << nan_skipped
              << " duplicates=" << s.duplicates << " revisions=" << s.revisions << " derived_bars=" << s.derived_bars
              << " gaps=" << report->gaps.count << " missing_bars=" << report->gaps.missing_bars
              << " seconds=" << report->seconds << " threads=" << (threaded ? threaded->threads() : 1) << '\n';
    if (report->gaps.largest)
      std::cout << "  largest gap: " << describe_gap(*report->gaps.largest) << '\n';
    for (const auto& st : sinks.stats()) {
      const uint64_t written = st.sent - st.skipped;
      std::cout << "  sink " << st.name << ": written=" << written << " skipped=" << st.skipped << '\n';
      if (st.skipped > 0)
        std::cerr << "warning: " << st.name << ": " << st.skipped << " of " << st.sent
                  << " records skipped: the output already held their keys from an earlier run "
                     "(`replay --fresh` writes them anew)\n";
    }
    if (report->gaps.count > 0)
      std::cerr << "warning: " << report->gaps.count << (report->gaps.count == 1 ? " gap" : " gaps")
                << " in the data (" << report->gaps.missing_bars
                << (options.gap_policy == GapPolicy::kReset
                        ? " missing bars), reset: each symbol started afresh after its gap and warmed up again "
                          "(see docs/dsl.md, gaps)\n"
                        : " missing bars), bridged: features carried their state across (see docs/dsl.md, gaps)\n");
  }
  return exit_code;
}

}  // namespace af::app
