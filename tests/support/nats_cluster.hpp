#pragma once
// Test support: the 3-node NATS JetStream cluster of scripts/nats_cluster.sh on
// loopback, driven from a test (start, kill -9 a node, start it again, stop them
// all and start them again on the same ports and stores). The script is the one
// place that knows how to write the nodes' configs; this wraps its commands.
// Every node is stopped when the object goes.

#include <chrono>
#include <filesystem>
#include <string>

#include "support/child_process.hpp"
#include "support/nats_server.hpp"
#include "support/process.hpp"

namespace af::testing {

class NatsCluster {
 public:
  // `script`: scripts/nats_cluster.sh; `dir`: its state (configs, stores, logs).
  NatsCluster(std::string script, std::string dir) : script_(std::move(script)), dir_(std::move(dir)) {}
  ~NatsCluster() {
    if (started_) run("stop");
  }
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts the three nodes and waits for a JetStream meta leader: "" when up, else
  // the script's complaint. urls() is the --bus list then.
  std::string start() {
    started_ = true;
    auto r = run("start");
    if (r.exit_code != 0) return "nats_cluster.sh start: " + r.err;
    urls_ = r.out.substr(0, r.out.find('\n'));
    return "";
  }
  const std::string& urls() const { return urls_; }

  // kill -9 of node i (1..3): a crashed server.
  bool kill_node(int i) { return run("kill-node " + std::to_string(i)).exit_code == 0; }
  // Starts node i again (same port, same store) and waits until it is healthy.
  bool start_node(int i) { return run("start-node " + std::to_string(i)).exit_code == 0; }
  // Every node down (SIGTERM, then SIGKILL).
  bool stop_all() { return run("stop").exit_code == 0; }
  // Every node up again at once (a lone node of a stopped cluster does not report
  // healthy until the others are back), then each server answering: true when the
  // three run and answer /healthz?js-server-only=true within 30 s. Not the full
  // /healthz that start-node waits for: in nats-server 2.9 it also needs every
  // stream and consumer replica current, and after a whole-cluster stop a
  // consumer's replicas were seen "not current" on all three nodes for more than
  // 30 s (once in eight runs of cluster_fault_test). Whether the cluster serves
  // again is the test's to show, by the work that goes on.
  bool start_all() {
    std::string cmd = "(";
    for (int i = 1; i <= 3; ++i) {
      cmd += "AF_SERVER_START_TIMEOUT=5 " + command("start-node " + std::to_string(i)) + " & p" + std::to_string(i) +
             "=$!; ";
    }
    cmd += "wait $p1; wait $p2; wait $p3)";
    run_command(cmd);
    return wait_until(
        [&] {
          for (int i = 1; i <= 3; ++i) {
            if (run_command("curl -sf -m 2 'http://127.0.0.1:" + monitor_port(i) + "/healthz?js-server-only=true'")
                    .exit_code != 0)
              return false;
          }
          return true;
        },
        std::chrono::seconds(30));
  }
  // The nodes' logs, for a failure message.
  std::string logs() const {
    std::string out;
    for (int i = 1; i <= 3; ++i) {
      const std::string log = dir_ + "/node" + std::to_string(i) + "/server.log";
      const std::string text = read_file(log);
      out += "--- " + log + " (tail)\n" + text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
    }
    return out;
  }

 private:
  // The script finds `nats-server` on PATH; the directory of the binary the tests
  // use goes first (Debian puts it in /usr/sbin, not always on a test's PATH).
  std::string command(const std::string& args) const {
    const std::string bin = nats_server_binary();
    const std::string path =
        bin.empty() ? std::string() : "PATH=" + std::filesystem::path(bin).parent_path().string() + ":\"$PATH\" ";
    return path + "bash " + script_ + " " + args + " " + dir_;
  }
  CommandResult run(const std::string& args) const { return run_command(command(args)); }
  // Node i's monitoring port: the third field of line i of DIR/ports (the script's).
  std::string monitor_port(int i) const {
    const auto lines = split_lines(read_file(dir_ + "/ports"));
    if (i < 1 || static_cast<size_t>(i) > lines.size()) return "0";
    const auto fields = split(lines[i - 1], ' ');
    return fields.size() >= 3 ? fields[2] : "0";
  }

  std::string script_, dir_, urls_;
  bool started_ = false;
};

}  // namespace af::testing
