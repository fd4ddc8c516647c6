#pragma once
// The `alpha_forge` module built into the embedded interpreter: what a sink may
// import (PermanentError) and the helpers the engine calls (loading the class,
// describing an exception). Registered before the interpreter starts
// (interpreter.cpp); its body is Python source, run once at first import.

struct _object;

namespace af::python {

// The PyInit function of `alpha_forge` (for PyImport_AppendInittab).
_object* init_alpha_forge_module();

}  // namespace af::python
