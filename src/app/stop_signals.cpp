#include "app/stop_signals.hpp"

#include <signal.h>
#include <unistd.h>

namespace af::app {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  if (g_stop.exchange(true)) {
    static const char kMsg[] = "second signal: exiting at once\n";
    const ssize_t n = ::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    (void)n;
    ::_exit(130);
  }
}

}  // namespace

std::atomic<bool>& stop_requested() { return g_stop; }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace af::app
