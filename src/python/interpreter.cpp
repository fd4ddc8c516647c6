#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "python/interpreter.hpp"

#include <mutex>
#include <thread>

#include "common/log.hpp"
#include "python/embedded_module.hpp"

namespace af::python {
namespace {

std::mutex mu;
bool started = false;
bool finalized = false;
Status start_status;
PyThreadState* starter_state = nullptr;  // the starting thread's, saved with the GIL
std::thread::id starter;

Status start_locked() {
  if (Py_IsInitialized()) return make_error("Python is already initialised by another component of this process", false);
  if (PyImport_AppendInittab("alpha_forge", &init_alpha_forge_module) != 0)
    return make_error("cannot register the embedded module alpha_forge", false);
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // the engine owns SIGINT and SIGTERM
  config.parse_argv = 0;
  const PyStatus status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status))
    return make_error(std::string("cannot start the embedded Python: ") +
                          (status.err_msg != nullptr ? status.err_msg : "unknown error"),
                      false);
  starter = std::this_thread::get_id();
  starter_state = PyEval_SaveThread();
  logger("python")->info("embedded Python {} started", Py_GetVersion());
  return {};
}

}  // namespace

Status ensure_interpreter() {
  std::lock_guard lock(mu);
  if (finalized) return make_error("the embedded Python has been finalised", false);
  if (!started) {
    started = true;
    start_status = start_locked();
  }
  return start_status;
}

bool interpreter_running() {
  std::lock_guard lock(mu);
  return started && start_status && !finalized;
}

void finalize_interpreter() {
  std::lock_guard lock(mu);
  if (!started || !start_status || finalized) return;
  finalized = true;
  if (std::this_thread::get_id() == starter) {
    PyEval_RestoreThread(starter_state);
  } else {
    PyGILState_Ensure();
  }
  if (Py_FinalizeEx() != 0) logger("python")->warn("embedded Python: finalising reported an error (a buffered write failed)");
}

}  // namespace af::python
