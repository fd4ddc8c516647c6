#pragma once
// The process's one embedded CPython interpreter. Started on first use (by the
// first sinks.python factory, on the engine's thread), thread-safe; the starting
// thread gives the GIL up at once, so the interpreter costs the compute thread
// nothing and each Python sink's worker takes the GIL only around its calls.
// Stopped by finalize_interpreter() at shutdown, after every Python sink's
// close(); it does not restart (CPython cannot be re-initialised reliably).
// Python's own signal handlers are not installed: SIGINT and SIGTERM stay the
// engine's.

#include "common/result.hpp"

namespace af::python {

// Starts the interpreter once; later calls return the first outcome. An Error
// after finalize_interpreter().
Status ensure_interpreter();

// True between a successful start and finalize_interpreter().
bool interpreter_running();

// Finalises the interpreter if it was started (Py_FinalizeEx). Call it once no
// Python sink is left (their workers joined); idempotent.
void finalize_interpreter();

}  // namespace af::python
