#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "python/embedded_module.hpp"

namespace af::python {
namespace {

// Plain Python: clearer than the same logic through the C API, and it runs
// only at start-up and on errors, never per record.
constexpr const char* kSource = R"PY(
import datetime as _datetime
import importlib as _importlib
import importlib.util as _importlib_util
import json as _json
import os as _os
import sys as _sys


class PermanentError(Exception):
    """An error that retrying cannot fix (bad credentials, a dropped table).

    Raised from a sink's emit, emit_batch or flush, it stops that sink: its
    pending records go to the spool (replayed at the next start) instead of
    being retried. Any exception whose class or instance has a true
    `permanent` attribute counts the same; every other exception is retried
    with backoff.
    """

    permanent = True


_files = {}


def _load_file(path):
    module = _files.get(path)
    if module is not None:
        return module
    stem = _os.path.splitext(_os.path.basename(path))[0]
    name = stem if stem.isidentifier() and stem not in _sys.modules else "_alpha_forge_sink_%d" % len(_files)
    spec = _importlib_util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % path)
    module = _importlib_util.module_from_spec(spec)
    _sys.modules[name] = module
    folder = _os.path.dirname(path)
    if folder not in _sys.path:
        _sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del _sys.modules[name]
        raise
    _files[path] = module
    return module


def _load_class(kind, target, class_name, base_dir):
    if base_dir not in _sys.path:
        _sys.path.insert(0, base_dir)
    module = _load_file(target) if kind == "file" else _importlib.import_module(target)
    obj = module
    for part in class_name.split("."):
        if not hasattr(obj, part):
            raise AttributeError("%s has no attribute '%s'" % (getattr(module, "__file__", target), part))
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise TypeError("%s is a %s, not a class" % (class_name, type(obj).__name__))
    if not callable(getattr(obj, "emit", None)):
        raise TypeError("%s has no method emit(symbol, ts, prediction, metadata)" % class_name)
    return obj


def _construct(cls, params_json):
    return cls(**_json.loads(params_json))


_EPOCH = _datetime.datetime(1970, 1, 1, tzinfo=_datetime.timezone.utc)
_MS = _datetime.timedelta(milliseconds=1)


def _held(sink, dag_name, symbols):
    """What the sink's optional last_ts(dag_name, symbol) says it holds, as
    {symbol: ms since the epoch}; symbols it answers None for are left out.
    None when the class has no last_ts."""
    method = getattr(sink, "last_ts", None)
    if method is None:
        return None
    if not callable(method):
        raise TypeError("last_ts is a %s, not a method" % type(method).__name__)
    held = {}
    for symbol in symbols:
        value = method(dag_name, symbol)
        if value is None:
            continue
        call = "last_ts(%r, %r)" % (dag_name, symbol)
        if isinstance(value, _datetime.datetime):
            if value.utcoffset() is None:
                raise ValueError("%s returned the naive datetime %s: return an aware one (emit receives UTC) "
                                 "or milliseconds since the epoch" % (call, value.isoformat()))
            value = (value - _EPOCH) // _MS
        elif isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("%s returned %s %r: expected None, a timezone-aware datetime or milliseconds "
                            "since the epoch (int)" % (call, type(value).__name__, value))
        if not -(1 << 62) < value < (1 << 62):
            raise ValueError("%s returned %d, outside any plausible time in milliseconds" % (call, value))
        held[symbol] = value
    return held


def _one_line(text, limit=600):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(exc):
    t = type(exc)
    name = t.__qualname__ if t.__module__ in ("builtins", "__main__") else t.__module__ + "." + t.__qualname__
    try:
        message = _one_line(exc)
    except BaseException:
        message = "<unprintable>"
    text = name + ": " + message if message else name
    tb = exc.__traceback__
    where = None
    while tb is not None:
        # The innermost frame of the user's code: this module's own frames
        # (the constructor's call) would point at the engine, not the sink.
        if tb.tb_frame.f_code.co_filename != "<alpha_forge>":
            where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if where is not None:
        text += " (at %s:%d)" % where
    return text


def _is_permanent(exc):
    try:
        return bool(getattr(exc, "permanent", False))
    except BaseException:
        return False
)PY";

PyModuleDef kModule = {
    PyModuleDef_HEAD_INIT,
    "alpha_forge",
    "The alpha_forge engine's module for Python sinks: PermanentError.",
    -1,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace

_object* init_alpha_forge_module() {
  PyObject* module = PyModule_Create(&kModule);
  if (module == nullptr) return nullptr;
  PyObject* dict = PyModule_GetDict(module);  // borrowed
  if (PyDict_GetItemString(dict, "__builtins__") == nullptr &&
      PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) != 0) {
    Py_DECREF(module);
    return nullptr;
  }
  PyObject* code = Py_CompileString(kSource, "<alpha_forge>", Py_file_input);
  if (code == nullptr) {
    Py_DECREF(module);
    return nullptr;
  }
  PyObject* result = PyEval_EvalCode(code, dict, dict);
  Py_DECREF(code);
  if (result == nullptr) {
    Py_DECREF(module);
    return nullptr;
  }
  Py_DECREF(result);
  return module;
}

}  // namespace af::python
