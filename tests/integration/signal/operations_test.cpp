// What an operator wires up, checked against a running `alpha_forge signal` (a child
// process) fed by the simulated exchange (in this process): the /metrics scrape
// passes `promtool check metrics`, exports the standard process metrics and the
// build info, matches docs/operations.md's table both ways, and every metric the
// Grafana dashboard and the Prometheus alerts in deploy/ name exists in it; the
// status page, loaded in headless Chromium, shows every symbol and updates itself.
// One service runs for the whole suite (it takes a warmup to get going).

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <iostream>
#include <regex>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/time.hpp"
#include "support/signal_scenario.hpp"

namespace af {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::read_file;
using testing::rsi_linear_pipeline;
using testing::run_command;
using testing::SimMarket;
using testing::split_lines;
using testing::TempDir;
using testing::wait_until;
using testing::write_file;

constexpr auto kLong = testing::kServiceDeadline;

std::string source_dir() {
  const char* d = std::getenv("AF_SOURCE_DIR");
  return d ? d : ".";
}

bool have_tool(const std::string& name) { return run_command("command -v " + name).exit_code == 0; }

double unix_now() { return static_cast<double>(now_ms()) / 1000.0; }

// One metric family of a scrape: its type and the label names its samples carry
// (`le` of histogram buckets left out).
struct Family {
  std::string type;
  std::set<std::string> labels;
};

// Families of a Prometheus text scrape by name, from its `# TYPE` lines and samples.
std::map<std::string, Family> families_of(const std::string& text) {
  std::map<std::string, Family> out;
  const std::regex type_line("^# TYPE (\\S+) (\\S+)$");
  const std::regex sample("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? \\S+$");
  const std::regex label("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\",?");
  for (const auto& line : split_lines(text)) {
    std::smatch m;
    if (std::regex_match(line, m, type_line)) {
      out[m[1]].type = m[2];
    } else if (!line.empty() && line[0] != '#' && std::regex_match(line, m, sample)) {
      std::string name = m[1];
      if (!out.count(name)) {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
          const std::string s = suffix;
          if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0 &&
              out.count(name.substr(0, name.size() - s.size()))) {
            name = name.substr(0, name.size() - s.size());
            break;
          }
        }
      }
      const std::string labels = m[3];
      for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
        if ((*it)[1] != "le") out[name].labels.insert((*it)[1]);
      }
    }
  }
  return out;
}

// The table of docs/operations.md that lists the metrics: every backquoted name of
// its first column, with the row's type and backquoted label names.
std::map<std::string, Family> families_of_docs(const std::string& markdown) {
  std::map<std::string, Family> out;
  const auto lines = split_lines(markdown);
  size_t i = 0;
  while (i < lines.size() && lines[i] != "| metric | type | labels | meaning |") ++i;
  const std::regex quoted("`([^`]+)`");
  for (i += 2; i < lines.size() && !lines[i].empty() && lines[i][0] == '|'; ++i) {
    const auto cells = testing::split(lines[i].substr(1), '|');
    if (cells.size() < 4) continue;
    Family f;
    f.type = std::regex_replace(cells[1], std::regex("^\\s+|\\s+$"), "");
    for (std::sregex_iterator it(cells[2].begin(), cells[2].end(), quoted), end; it != end; ++it) {
      f.labels.insert((*it)[1]);
    }
    for (std::sregex_iterator it(cells[0].begin(), cells[0].end(), quoted), end; it != end; ++it) {
      out[(*it)[1]] = f;
    }
  }
  return out;
}

// The value of the one sample `key` (name with its labels as written), or NaN.
double sample(const std::string& text, const std::string& key) {
  for (const auto& line : split_lines(text)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ' ') {
      return std::stod(line.substr(key.size() + 1));
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// Metric names in a dashboard or rule expression: identifiers that are not PromQL
// functions, keywords or label names (those stand before `=`, `!=`, `=~` or in by(...)).
std::set<std::string> metric_names_in(const std::string& expr) {
  static const std::set<std::string> kPromQl = {
      "sum", "rate", "irate", "increase", "histogram_quantile", "by", "without", "on", "ignoring", "group_left",
      "group_right", "and", "or", "unless", "time", "max", "min", "avg", "count", "changes", "resets", "clamp_min",
      "clamp_max", "absent", "delta", "deriv", "topk", "bottomk", "max_over_time", "min_over_time", "bool",
      "offset", "le", "vector", "scalar", "label_replace", "abs", "last_over_time", "avg_over_time",
      "label_values"};
  std::set<std::string> out;
  // Drop label matchers and grouping clauses first: their words are label names.
  std::string e = std::regex_replace(expr, std::regex("\\{[^}]*\\}"), "");
  e = std::regex_replace(e, std::regex("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)"), "");
  e = std::regex_replace(e, std::regex("\"[^\"]*\"|\\[[^\\]]*\\]"), "");
  const std::regex ident("[a-zA-Z_:][a-zA-Z0-9_:]*");
  for (std::sregex_iterator it(e.begin(), e.end(), ident), end; it != end; ++it) {
    const std::string w = (*it)[0];
    if (!kPromQl.count(w) && w != "e" && w.find('_') != std::string::npos) out.insert(w);
  }
  return out;
}

// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands go to its fd 3, answers and events come from its
// fd 4, each message a JSON text ended by a NUL byte).
class Browser {
 public:
  // Starts it with a fresh profile in `dir`; nullptr and `error` when it cannot start.
  static std::unique_ptr<Browser> start(const fs::path& dir, std::string& error) {
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      error = "pipe failed";
      return nullptr;
    }
    auto b = std::unique_ptr<Browser>(new Browser());
    b->to_ = to_child[1];
    b->from_ = from_child[0];
    // Above the numbers the child gets (3, 4), so that dup2 always copies (and clears
    // close-on-exec).
    const int child_in = ::fcntl(to_child[0], F_DUPFD_CLOEXEC, 10);
    const int child_out = ::fcntl(from_child[1], F_DUPFD_CLOEXEC, 10);
    ::close(to_child[0]);
    ::close(from_child[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child_in, 3);
    posix_spawn_file_actions_adddup2(&fa, child_out, 4);
    const std::string log = (dir / "chromium.log").string();
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    std::vector<std::string> argv{"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                  "--remote-debugging-pipe", "--user-data-dir=" + (dir / "profile").string(),
                                  "--no-first-run", "--hide-scrollbars", "--window-size=1100,640", "about:blank"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&b->pid_, "chromium", &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(child_in);
    ::close(child_out);
    if (rc != 0) {
      error = "cannot start chromium";
      b->pid_ = -1;
      return nullptr;
    }
    return b;
  }

  ~Browser() {
    if (pid_ > 0) {
      try {
        call("Browser.close", nlohmann::json::object(), "", std::chrono::seconds(5));
      } catch (const std::exception&) {
      }
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    ::close(to_);
    ::close(from_);
  }

  // Sends a command and returns its result; throws with the browser's error or on timeout.
  nlohmann::json call(const std::string& method, const nlohmann::json& params, const std::string& session = "",
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    nlohmann::json msg = {{"id", ++next_id_}, {"method", method}, {"params", params}};
    if (!session.empty()) msg["sessionId"] = session;
    const std::string text = msg.dump() + '\0';
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(to_, text.data() + done, text.size() - done);
      if (n <= 0) throw std::runtime_error(method + ": the browser's pipe is closed");
      done += static_cast<size_t>(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const size_t end = buffer_.find('\0');
      if (end != std::string::npos) {
        auto reply = nlohmann::json::parse(buffer_.substr(0, end));
        buffer_.erase(0, end + 1);
        if (reply.value("id", -1) != next_id_) continue;  // an event or an older answer
        if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
        return reply["result"];
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error(method + ": no answer in time");
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error(method + ": the browser exited");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  Browser() = default;
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  int next_id_ = 0;
  std::string buffer_;
};

std::string base64_decode(const std::string& in) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else continue;  // '=' padding
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if ((count += 6) >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

// What the status page shows, read from its rendered DOM.
constexpr const char* kReadPage = R"js(JSON.stringify({
  pipeline: document.getElementById("pipeline").textContent,
  phase: document.getElementById("phase").textContent,
  error: document.getElementById("error").textContent,
  refreshes: Number(document.getElementById("updated").dataset.refreshes),
  rows: [...document.querySelectorAll("#symbols tbody tr.sym")].map(r => ({
    symbol: r.dataset.symbol, stale: r.classList.contains("stale"), changes: Number(r.dataset.changes),
    last_bar: r.querySelector(".last-bar").textContent, value: r.querySelector(".value").textContent,
    points: Number(r.querySelector("svg.chart").dataset.points),
    lines: r.querySelectorAll("svg.chart polyline").length,
    background: getComputedStyle(r.querySelector("td")).backgroundColor})),
  feeds: [...document.querySelectorAll("#feeds tbody tr.feed")].map(r => ({
    source: r.dataset.source, stale: r.classList.contains("stale")})),
  sinks: [...document.querySelectorAll("#sinks tbody tr.sink")].map(r => ({
    name: r.dataset.sink, sent: Number(r.querySelector(".sent").textContent)}))
}))js";

class OperationsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_ = new Suite(); }
  static void TearDownTestSuite() {
    delete suite_;
    suite_ = nullptr;
  }

  // The running service, shared by the tests of this file.
  struct Suite {
    Suite() {
      if (error = market.start(dir.path().string()); !error.empty()) return;
      exchange_started_at = static_cast<double>(market.started_at_ms()) / 1000.0;
      write_file(dir / "live.yaml", rsi_linear_pipeline("operations", dir / "live.csv"));
      started_at = unix_now();
      process = testing::start_signal(dir / "live.yaml", market, dir / "signal",
                                      {"--state-dir", dir / "state", "--snapshot-every", "1", "--metrics-port", "0",
                                       "--anchor-timeout", "20"});
      url = testing::wait_metrics_url(*process);
      if (url.empty()) {
        error = "no metrics URL: " + process->err();
        return;
      }
      // Warm, and a few dozen live bars in: every family has its samples.
      if (!wait_until([&] { return sample(get("/metrics"), "af_warmup_done") == 1 || !process->running(); },
                      kLong) ||
          !wait_until([&] { return sample(get("/metrics"), "af_live_bars_total") >= 40 || !process->running(); },
                      kLong) ||
          !process->running()) {
        error = "signal did not warm up: " + process->err();
      }
    }
    ~Suite() {
      if (process && process->running()) {
        process->signal(SIGTERM);
        process->wait(kLong);
      }
    }
    std::string get(const std::string& path) const { return run_command("curl -s -m 5 " + url + path).out; }

    TempDir dir;
    SimMarket market;
    std::unique_ptr<ChildProcess> process;
    double exchange_started_at = 0;
    double started_at = 0;
    std::string url;
    std::string error;
  };

  void SetUp() override { ASSERT_TRUE(suite_->error.empty()) << suite_->error; }
  static std::string get(const std::string& path) { return suite_->get(path); }

  static Suite* suite_;
};

OperationsTest::Suite* OperationsTest::suite_ = nullptr;

TEST_F(OperationsTest, ScrapePassesPromtool) {
  if (!have_tool("promtool")) GTEST_SKIP() << "promtool is not installed (Debian: prometheus; scripts/deps.sh test)";
  const std::string scrape = get("/metrics");
  ASSERT_NE(scrape.find("# TYPE af_bar_close_to_emit_seconds histogram"), std::string::npos) << scrape;
  const fs::path file = suite_->dir / "scrape.txt";
  write_file(file, scrape);
  const auto r = run_command("promtool check metrics < " + file.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "") << r.out;
}

TEST_F(OperationsTest, StandardProcessMetricsAndBuildInfo) {
  const std::string s = get("/metrics");
  // The child started after started_at (whole seconds in /proc's btime: one of slack).
  const double start = sample(s, "process_start_time_seconds");
  EXPECT_GE(start, suite_->started_at - 1.5) << s;
  EXPECT_LE(start, unix_now()) << s;
  EXPECT_GT(sample(s, "process_cpu_seconds_total"), 0) << s;
  EXPECT_LT(sample(s, "process_cpu_seconds_total"), unix_now() - suite_->started_at + 1) << "not seconds";
  EXPECT_GT(sample(s, "process_resident_memory_bytes"), 1 << 20) << s;
  EXPECT_GE(sample(s, "af_process_peak_resident_memory_bytes"), sample(s, "process_resident_memory_bytes")) << s;
  // stdio, the sockets of the feed, the sink's file, the listener and this scrape.
  EXPECT_GE(sample(s, "process_open_fds"), 6) << s;
  EXPECT_LT(sample(s, "process_open_fds"), sample(s, "process_max_fds")) << s;
  EXPECT_EQ(s.find("af_process_resident_memory_bytes"), std::string::npos) << "a project-prefixed copy";

  EXPECT_EQ(sample(s, std::string("af_build_info{version=\"") + AF_PROJECT_VERSION + "\",commit=\"" + AF_GIT_COMMIT +
                          "\"}"),
            1)
      << s;
  // Built from a git checkout, the commit is known; from an export of the tree it is "unknown".
  if (run_command("git -C " + source_dir() + " rev-parse HEAD").exit_code == 0) {
    EXPECT_TRUE(std::regex_match(std::string(AF_GIT_COMMIT), std::regex("[0-9a-f]{12}"))) << AF_GIT_COMMIT;
  } else {
    EXPECT_STREQ(AF_GIT_COMMIT, "unknown");
  }
}

TEST_F(OperationsTest, MomentsAreUnixSecondsAndStalenessIsATimestamp) {
  const std::string s = get("/metrics");
  const double now = unix_now();
  // Simulated time: the anchor is the first streamed bar, a minute boundary from the
  // exchange's start (2024-01-10T00:07Z, the minute before at the earliest) to where
  // its clock (600 x wall time) had come when the service connected.
  const double anchor = sample(s, "af_anchor_timestamp_seconds");
  EXPECT_GE(anchor, 1704845160) << s;
  EXPECT_LE(anchor, 1704845220 + 600 * (now - suite_->exchange_started_at)) << s;
  EXPECT_EQ(std::fmod(anchor, 60), 0) << s;
  // Wall-clock moments of this run.
  const double last_message = sample(s, "af_feed_last_message_timestamp_seconds{source=\"data.binance_futures_1m\"}");
  EXPECT_GT(last_message, now - 5) << s;
  EXPECT_LE(last_message, now + 1) << s;
  EXPECT_GE(sample(s, "af_warmup_done_timestamp_seconds"), suite_->started_at - 1) << s;
  EXPECT_LE(sample(s, "af_warmup_done_timestamp_seconds"), now) << s;
  EXPECT_GE(sample(s, "af_snapshot_last_written_timestamp_seconds"), suite_->started_at - 1) << s;
  EXPECT_EQ(sample(s, "af_snapshot_max_age_seconds"), 60) << s;  // 6 x 1 s, at least 60
  // 20 x the 250 ms push cadence of a 1m kline stream, at least 10 s.
  EXPECT_EQ(sample(s, "af_feed_stale_after_seconds{source=\"data.binance_futures_1m\"}"), 10) << s;
  EXPECT_EQ(s.find("staleness"), std::string::npos) << s;
  // Latencies in seconds: a bar's prediction is handed to the sinks well within one.
  const double count = sample(s, "af_bar_close_to_emit_seconds_count");
  EXPECT_GT(count, 0) << s;
  EXPECT_EQ(sample(s, "af_bar_close_to_emit_seconds_bucket{le=\"1\"}"), count) << s;
}

// Item 4: warmup's size as gauges and its progress in the log, on a time basis
// (every 5 s and at the end), not per N events. And the spool's bound, exported
// for the near-full alert.
TEST_F(OperationsTest, WarmupProgressIsGaugedAndLoggedAndTheSpoolBoundIsExported) {
  const std::string s = get("/metrics");
  const double expected = sample(s, "af_warmup_bars_expected");
  const double loaded = sample(s, "af_warmup_bars_loaded");
  // Two symbols, a 1-day lookback of 1m bars moved up to the hour: at least 2 x 23 h.
  EXPECT_GE(expected, 2 * 23 * 60) << s;
  // The synthetic mirror has no gaps: every expected bar came, and ran through the engine.
  EXPECT_EQ(loaded, expected) << s;
  EXPECT_EQ(loaded, sample(s, "af_history_bars_total") + sample(s, "af_catch_up_bars_total")) << s;
  const std::string err = suite_->process->err();
  const std::string total = std::to_string(static_cast<uint64_t>(expected));
  EXPECT_TRUE(std::regex_search(err, std::regex("warmup progress: bars=0/" + total +
                                                " \\(0\\.0%\\) rate=0 bars/s eta=\\?\\n")))
      << "the first line, at the start of warmup\n" << err;
  EXPECT_TRUE(std::regex_search(err, std::regex("warmup progress: bars=" + total + "/" + total +
                                                " \\(100\\.0%\\) rate=[0-9.]+[kM]? bars/s eta=0:00\\n")))
      << "the last line, at its end\n" << err;
  // The first line, one per 5 s of warmup, and the last (thousands of bars: a line
  // per N bars would be many more).
  size_t lines = 0;
  for (size_t at = err.find("warmup progress: "); at != std::string::npos; at = err.find("warmup progress: ", at + 1))
    ++lines;
  const double warmup_s = sample(s, "af_warmup_done_timestamp_seconds") - (suite_->started_at - 1);
  EXPECT_GE(lines, 2u) << err;
  EXPECT_LE(static_cast<double>(lines), 2 + warmup_s / 5) << err;
  EXPECT_EQ(sample(s, "af_sink_spool_limit_bytes{sink=\"sinks.csv_append[0]\"}"), 1024.0 * 1024 * 1024) << s;
}

TEST_F(OperationsTest, DocsTableListsExactlyTheScrapedFamilies) {
  const auto scraped = families_of(get("/metrics"));
  const auto documented = families_of_docs(read_file(source_dir() + "/docs/operations.md"));
  ASSERT_GT(documented.size(), 20u) << "the metrics table of docs/operations.md was not found";
  for (const auto& [name, f] : scraped) {
    const auto it = documented.find(name);
    if (it == documented.end()) {
      ADD_FAILURE() << name << " (" << f.type << ") is exported but not in docs/operations.md";
      continue;
    }
    EXPECT_EQ(it->second.type, f.type) << name;
    EXPECT_EQ(it->second.labels, f.labels) << name << ": labels in docs/operations.md differ";
  }
  for (const auto& [name, f] : documented) {
    EXPECT_TRUE(scraped.count(name)) << name << " is in docs/operations.md but not exported";
  }
}

// Item 2: the files in deploy/ refer only to metrics the service exports.
TEST_F(OperationsTest, DashboardAndAlertsNameOnlyExportedMetrics) {
  const auto scraped = families_of(get("/metrics"));
  auto exists = [&](const std::string& name) {
    // `up` is Prometheus' own: 1 when the scrape succeeded.
    if (scraped.count(name) || name == "up") return true;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        const auto it = scraped.find(name.substr(0, name.size() - s.size()));
        if (it != scraped.end() && it->second.type == "histogram") return true;
      }
    }
    return false;
  };

  const auto dashboard = nlohmann::json::parse(read_file(source_dir() + "/deploy/grafana/alpha_forge.json"));
  size_t exprs = 0;
  std::set<std::string> used;
  for (const auto& panel : dashboard.at("panels")) {
    if (!panel.contains("targets")) continue;
    for (const auto& target : panel.at("targets")) {
      ++exprs;
      for (const auto& name : metric_names_in(target.at("expr").get<std::string>())) {
        used.insert(name);
        EXPECT_TRUE(exists(name)) << "deploy/grafana/alpha_forge.json, panel '" << panel.value("title", "")
                                  << "': " << name << " is not exported";
      }
    }
  }
  // The restart annotation and the instance picker query metrics too.
  std::vector<std::string> others;
  for (const auto& a : dashboard.at("annotations").at("list")) others.push_back(a.at("expr").get<std::string>());
  for (const auto& v : dashboard.at("templating").at("list")) {
    if (v.contains("definition")) others.push_back(v.at("definition").get<std::string>());
  }
  for (const auto& expr : others) {
    for (const auto& name : metric_names_in(expr)) {
      EXPECT_TRUE(exists(name)) << "deploy/grafana/alpha_forge.json: " << name << " is not exported (" << expr << ")";
    }
  }
  EXPECT_GE(exprs, 8u);
  for (const char* needed : {"af_bar_close_to_emit_seconds_bucket", "af_sink_queue_depth",
                             "process_resident_memory_bytes", "af_events_total"}) {
    EXPECT_TRUE(used.count(needed)) << "the dashboard does not show " << needed;
  }

  const std::string rules = read_file(source_dir() + "/deploy/prometheus/alerts.yml");
  const std::regex expr_line("^\\s*expr:\\s*(.*)$");
  size_t alerts = 0;
  for (const auto& line : split_lines(rules)) {
    std::smatch m;
    if (!std::regex_match(line, m, expr_line)) continue;
    ++alerts;
    for (const auto& name : metric_names_in(m[1])) {
      EXPECT_TRUE(exists(name)) << "deploy/prometheus/alerts.yml: " << name << " is not exported (" << line << ")";
    }
  }
  EXPECT_GE(alerts, 7u) << "alert expressions must be on one line each (expr: ...)";
}

// Item 3: the status page in a real browser, from the running service. Last in this
// file: it stops the exchange to see the page turn stale.
TEST_F(OperationsTest, StatusPageInHeadlessChromium) {
  const std::string status = get("/status");
  const auto js = nlohmann::json::parse(status);
  EXPECT_EQ(js.at("pipeline"), "operations");
  EXPECT_EQ(js.at("phase"), "streaming");
  EXPECT_EQ(js.at("healthy"), true) << status;
  ASSERT_EQ(js.at("symbols").size(), 2u) << status;
  EXPECT_EQ(js.at("symbols")[0].at("symbol"), "BTCUSDT");
  EXPECT_EQ(js.at("symbols")[1].at("symbol"), "ETHUSDT");
  for (const auto& y : js.at("symbols")) {
    EXPECT_FALSE(y.at("last_bar").is_null()) << status;
    EXPECT_TRUE(y.at("last_prediction").at("value").is_number()) << status;
    EXPECT_FALSE(y.at("recent").empty()) << status;
    EXPECT_EQ(y.at("stale"), false) << status;
  }
  EXPECT_EQ(js.at("sinks")[0].at("name"), "sinks.csv_append[0]");
  EXPECT_EQ(js.at("feeds")[0].at("source"), "data.binance_futures_1m");
  EXPECT_EQ(js.at("snapshot").at("enabled"), true);

  if (!have_tool("chromium")) GTEST_SKIP() << "chromium is not installed (Debian: chromium; scripts/deps.sh test)";
  // Kept under the build directory (ctest sets AF_BINARY_DIR; run by hand: beside this binary).
  const char* binary_dir = std::getenv("AF_BINARY_DIR");
  const fs::path artefacts =
      (binary_dir ? fs::path(binary_dir) : fs::read_symlink("/proc/self/exe").parent_path()) / "test-artifacts";
  fs::create_directories(artefacts);
  std::string error;
  auto browser = Browser::start(suite_->dir.path(), error);
  ASSERT_TRUE(browser) << error;
  try {
    // Refresh every 500 ms, so that a few seconds show several updates.
    const std::string target =
        browser->call("Target.createTarget", {{"url", suite_->url + "/?every=500"}}).at("targetId");
    const std::string session =
        browser->call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}}).at("sessionId");
    auto read_page = [&] {
      const auto r = browser->call("Runtime.evaluate", {{"expression", kReadPage}, {"returnByValue", true}}, session);
      if (!r.contains("result") || !r["result"].contains("value")) return nlohmann::json();
      return nlohmann::json::parse(r["result"]["value"].get<std::string>());
    };
    auto screenshot = [&](const std::string& name) {
      // The page's content, not the empty window below it.
      const auto size = browser->call(
          "Runtime.evaluate",
          {{"expression", "[document.documentElement.scrollWidth, document.body.getBoundingClientRect().height + 32]"},
           {"returnByValue", true}},
          session);
      const auto wh = size.at("result").at("value");
      const auto shot = browser->call(
          "Page.captureScreenshot",
          {{"format", "png"},
           {"clip", {{"x", 0}, {"y", 0}, {"width", wh[0]}, {"height", wh[1]}, {"scale", 1}}}},
          session);
      const std::string png = base64_decode(shot.at("data"));
      write_file(artefacts / name, png);
      return png;
    };

    nlohmann::json first;
    ASSERT_TRUE(wait_until(
        [&] {
          first = read_page();
          return !first.is_null() && first["refreshes"].get<int>() >= 1 && first["rows"].size() == 2;
        },
        std::chrono::seconds(20)))
        << first.dump() << "\n" << read_file(suite_->dir / "chromium.log");
    EXPECT_EQ(first["pipeline"], "operations");
    EXPECT_EQ(first["phase"], "streaming");
    EXPECT_EQ(first["error"], "");
    EXPECT_EQ(first["rows"][0]["symbol"], "BTCUSDT");
    EXPECT_EQ(first["rows"][1]["symbol"], "ETHUSDT");
    for (const auto& row : first["rows"]) {
      EXPECT_FALSE(row["stale"].get<bool>()) << row.dump();
      EXPECT_TRUE(std::regex_match(row["last_bar"].get<std::string>(), std::regex("2024-01-\\d\\dT\\d\\d:\\d\\d:00Z")))
          << row.dump();
      EXPECT_NE(row["value"], "-") << row.dump();
      EXPECT_GT(row["points"].get<int>(), 1) << row.dump();
      EXPECT_EQ(row["lines"], 1) << "no chart drawn: " << row.dump();
    }
    ASSERT_EQ(first["feeds"].size(), 1u);
    ASSERT_EQ(first["sinks"].size(), 1u);
    EXPECT_EQ(first["sinks"][0]["name"], "sinks.csv_append[0]");

    // The page updates itself: later loads bring each symbol new bars and the sink more records.
    nlohmann::json later;
    EXPECT_TRUE(wait_until(
        [&] {
          later = read_page();
          if (later.is_null() || later["refreshes"].get<int>() < first["refreshes"].get<int>() + 3) return false;
          for (const auto& row : later["rows"]) {
            if (row["changes"].get<int>() < 2) return false;
          }
          return later["sinks"][0]["sent"].get<double>() > first["sinks"][0]["sent"].get<double>();
        },
        std::chrono::seconds(20)))
        << first.dump() << "\n" << later.dump();
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_GT(later["rows"][i]["last_bar"].get<std::string>(), first["rows"][i]["last_bar"].get<std::string>());
    }
    const std::string png = screenshot("status_page.png");
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_GT(png.size(), 5000u);

    // The exchange goes away: past the feed's stale limit (10 s) every row is highlighted.
    suite_->market.stop();
    nlohmann::json stale;
    EXPECT_TRUE(wait_until(
        [&] {
          stale = read_page();
          if (stale.is_null() || stale["rows"].size() != 2) return false;
          for (const auto& row : stale["rows"]) {
            if (!row["stale"].get<bool>()) return false;
          }
          return stale["feeds"][0]["stale"].get<bool>();
        },
        std::chrono::seconds(40)))
        << stale.dump();
    // Highlighted as the style says (the red background), not only classed.
    EXPECT_NE(stale["rows"][0]["background"], first["rows"][0]["background"]) << stale.dump();
    EXPECT_EQ(stale["rows"][0]["background"], "rgb(253, 232, 230)") << stale.dump();
    screenshot("status_page_stale.png");
    std::cout << "screenshots: " << (artefacts / "status_page.png") << " " << (artefacts / "status_page_stale.png")
              << "\n";
  } catch (const std::exception& e) {
    FAIL() << e.what() << "\n" << read_file(suite_->dir / "chromium.log");
  }
}

}  // namespace
}  // namespace af
