#pragma once
// SIGINT/SIGTERM for the long-running commands (signal, ingest): the first one
// sets the stop flag (the command drains and exits); a second one exits at once
// (what was pending is kept by the spool, the snapshot or the stream). SIGPIPE
// and SIGXFSZ are ignored, so that a closed socket or a file-size limit is an
// error the code reports, not a signal that kills the process.

#include <atomic>

namespace af::app {

// The flag the handlers set; polled by the command's loop.
std::atomic<bool>& stop_requested();

void install_stop_handlers();

}  // namespace af::app
