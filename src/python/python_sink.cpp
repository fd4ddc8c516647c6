#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

#include "python/python_sink.hpp"

#include <algorithm>

#include "common/bar.hpp"
#include "common/time.hpp"
#include "python/interpreter.hpp"

namespace af::python {
namespace {

// The GIL for one call into Python, on whichever thread makes it (a sink's
// worker); the thread state is created and dropped with it.
class Gil {
 public:
  Gil() : state_(PyGILState_Ensure()) {}
  ~Gil() { PyGILState_Release(state_); }
  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

 private:
  PyGILState_STATE state_;
};

// An owned reference, released at scope exit.
class Ref {
 public:
  explicit Ref(PyObject* p = nullptr) : p_(p) {}
  ~Ref() { Py_XDECREF(p_); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  PyObject* get() const { return p_; }
  PyObject* release() {
    PyObject* p = p_;
    p_ = nullptr;
    return p;
  }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  PyObject* p_;
};

constexpr int64_t kDayMs = 86'400'000;

// ms since the epoch as a timezone-aware datetime in UTC; nullptr with
// OverflowError outside datetime's years 1..9999.
PyObject* utc_datetime(int64_t ms) {
  int64_t days = ms / kDayMs;
  int64_t rem = ms % kDayMs;
  if (rem < 0) {
    rem += kDayMs;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (y < 1 || y > 9999) {
    PyErr_Format(PyExc_OverflowError, "timestamp %lld ms is outside the years 1 to 9999", static_cast<long long>(ms));
    return nullptr;
  }
  const int h = static_cast<int>(rem / 3'600'000);
  const int mi = static_cast<int>(rem / 60'000 % 60);
  const int s = static_cast<int>(rem / 1000 % 60);
  const int us = static_cast<int>(rem % 1000) * 1000;
  return PyDateTimeAPI->DateTime_FromDateAndTime(static_cast<int>(y), static_cast<int>(m), static_cast<int>(d), h, mi,
                                                 s, us, PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType);
}

// An optional method: nullptr (no error set) when absent or not callable.
PyObject* optional_method(PyObject* instance, const char* name) {
  PyObject* m = PyObject_GetAttrString(instance, name);
  if (m == nullptr) {
    PyErr_Clear();
    return nullptr;
  }
  if (!PyCallable_Check(m)) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}

const char* const kKeyNames[5] = {"frame", "column", "dag_name", "emitted_at", "origin"};

}  // namespace

PythonSink::PythonSink(PythonSinkOptions options) : options_(std::move(options)) {
  options_.batch_size = std::max<size_t>(options_.batch_size, 1);
}

PythonSink::~PythonSink() {
  // close() releases everything; only a sink whose close() never ran gets here
  // holding references, and then only while the interpreter still runs.
  if (instance_ == nullptr && helpers_ == nullptr && strings_.empty()) return;
  if (!interpreter_running()) return;
  Gil gil;
  release_locked();
}

Error PythonSink::error(const std::string& what, bool transient) const {
  return make_error(options_.name + " (class '" + options_.class_text + "'): " + what, transient);
}

Error PythonSink::raised(const char* call) {
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (value != nullptr && traceback != nullptr) PyException_SetTraceback(value, traceback);
  Ref t(type), v(value), tb(traceback);
  std::string text = type != nullptr ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "an unknown error";
  bool permanent = false;
  if (value != nullptr && helpers_ != nullptr) {
    Ref described(PyObject_CallMethod(helpers_, "_describe", "O", value));
    const char* utf8 = described && PyUnicode_Check(described.get()) ? PyUnicode_AsUTF8(described.get()) : nullptr;
    if (utf8 != nullptr) text = utf8;
    Ref flag(PyObject_CallMethod(helpers_, "_is_permanent", "O", value));
    permanent = flag && PyObject_IsTrue(flag.get()) == 1;
    PyErr_Clear();
  }
  return error(std::string(call) + " raised " + text + (permanent ? " [permanent: the sink stops]" : ""), !permanent);
}

Status PythonSink::open() {
  if (auto st = ensure_interpreter(); !st) return error(st.error().message, false);
  auto at_start = [&](const std::string& what) {
    return make_error(options_.name + (options_.where.empty() ? "" : " (" + options_.where + ")") + ": class '" +
                          options_.class_text + "': " + what,
                      false);
  };
  Gil gil;
  if (PyDateTimeAPI == nullptr) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == nullptr) {
      PyErr_Clear();
      return at_start("cannot import datetime");
    }
  }
  helpers_ = PyImport_ImportModule("alpha_forge");
  if (helpers_ == nullptr) {
    const Error e = raised("import alpha_forge");
    return at_start(e.message);
  }
  // From here on a failure is described by the helpers, and `what` already
  // names this sink: only the start-up context is added.
  auto fail = [&](const char* step) {
    const Error e = raised(step);
    const std::string prefix = options_.name + " (class '" + options_.class_text + "'): ";
    const std::string what = e.message.rfind(prefix, 0) == 0 ? e.message.substr(prefix.size()) : e.message;
    release_locked();
    return at_start(what);
  };
  const char* kind = options_.spec.kind == ClassSpec::Kind::kFile ? "file" : "module";
  Ref cls(PyObject_CallMethod(helpers_, "_load_class", "ssss", kind, options_.spec.target.c_str(),
                              options_.spec.class_name.c_str(), options_.spec.base_dir.c_str()));
  if (!cls) return fail("loading");
  instance_ = PyObject_CallMethod(helpers_, "_construct", "Os", cls.get(), options_.params_json.c_str());
  if (instance_ == nullptr) return fail("the constructor");
  emit_ = PyObject_GetAttrString(instance_, "emit");
  if (emit_ == nullptr) return fail("emit lookup");
  emit_batch_ = optional_method(instance_, "emit_batch");
  flush_ = optional_method(instance_, "flush");
  close_ = optional_method(instance_, "close");
  if (!ask_held()) return fail("last_ts");
  for (int i = 0; i < 5; ++i) {
    keys_[i] = PyUnicode_InternFromString(kKeyNames[i]);
    if (keys_[i] == nullptr) return fail("setting up");
  }
  for (int i = 0; i < 4; ++i) {
    origins_[i] = PyUnicode_InternFromString(bar_origin_name(static_cast<BarOrigin>(i)));
    if (origins_[i] == nullptr) return fail("setting up");
  }
  return {};
}

bool PythonSink::ask_held() {
  Ref symbols(PyList_New(static_cast<Py_ssize_t>(options_.symbols.size())));
  if (!symbols) return false;
  for (size_t i = 0; i < options_.symbols.size(); ++i) {
    const std::string& sym = options_.symbols[i];
    PyObject* str = PyUnicode_DecodeUTF8(sym.data(), static_cast<Py_ssize_t>(sym.size()), "replace");
    if (str == nullptr) return false;
    PyList_SET_ITEM(symbols.get(), static_cast<Py_ssize_t>(i), str);  // steals the reference
  }
  Ref held(PyObject_CallMethod(helpers_, "_held", "OsO", instance_, options_.dag_name.c_str(), symbols.get()));
  if (!held) return false;
  if (held.get() == Py_None) return true;
  PyObject *key = nullptr, *value = nullptr;
  Py_ssize_t pos = 0;
  while (PyDict_Next(held.get(), &pos, &key, &value)) {  // borrowed references
    const char* sym = PyUnicode_AsUTF8(key);
    if (sym == nullptr) return false;
    const long long ms = PyLong_AsLongLong(value);  // _held bounded it to int64
    if (ms == -1 && PyErr_Occurred()) return false;
    held_.emplace(sym, static_cast<int64_t>(ms));
  }
  return true;
}

std::optional<int64_t> PythonSink::last_ts(const std::string& dag_name, const std::string& symbol) const {
  if (dag_name != options_.dag_name) return std::nullopt;
  const auto it = held_.find(symbol);
  if (it == held_.end()) return std::nullopt;
  return it->second;
}

PyObject* PythonSink::interned(const std::string* s) {
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  static const std::string kEmpty;
  const std::string& text = s != nullptr ? *s : kEmpty;
  PyObject* str = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (str == nullptr) return nullptr;
  strings_.emplace(s, str);
  return str;
}

PyObject* PythonSink::record_tuple(const PredictionRecord& r) {
  PyObject* symbol = interned(r.symbol);
  PyObject* frame = interned(r.frame);
  PyObject* column = interned(r.column);
  PyObject* dag = interned(r.dag_name);
  if (symbol == nullptr || frame == nullptr || column == nullptr || dag == nullptr) return nullptr;
  const auto origin_index = static_cast<size_t>(r.origin);
  if (origin_index >= 4) {
    PyErr_Format(PyExc_ValueError, "unknown bar origin %d", static_cast<int>(origin_index));
    return nullptr;
  }
  Ref ts(utc_datetime(r.ts));
  if (!ts) return nullptr;
  Ref emitted(utc_datetime(r.emitted_at));
  if (!emitted) return nullptr;
  Ref prediction(PyFloat_FromDouble(r.prediction));
  Ref metadata(PyDict_New());
  if (!prediction || !metadata) return nullptr;
  PyObject* values[5] = {frame, column, dag, emitted.get(), origins_[origin_index]};
  for (int i = 0; i < 5; ++i)
    if (PyDict_SetItem(metadata.get(), keys_[i], values[i]) != 0) return nullptr;
  return PyTuple_Pack(4, symbol, ts.get(), prediction.get(), metadata.get());
}

Status PythonSink::write(std::span<const PredictionRecord> batch) {
  if (instance_ == nullptr) return error(closed_ ? "write after close" : "write before open", false);
  if (batch.empty()) return {};
  Gil gil;
  return write_locked(batch);
}

Status PythonSink::write_locked(std::span<const PredictionRecord> batch) {
  // A record Python cannot represent is not fixed by retrying it.
  auto unconvertible = [&](const PredictionRecord& r) {
    Error e = raised("converting a record");
    return error("record ts=" + std::to_string(r.ts) + ": " + e.message.substr(e.message.find("raised ") + 7), false);
  };
  if (emit_batch_ != nullptr) {
    for (size_t i = 0; i < batch.size(); i += options_.batch_size) {
      const size_t n = std::min(options_.batch_size, batch.size() - i);
      Ref list(PyList_New(static_cast<Py_ssize_t>(n)));
      if (!list) return raised("emit_batch");
      for (size_t j = 0; j < n; ++j) {
        PyObject* t = record_tuple(batch[i + j]);
        if (t == nullptr) return unconvertible(batch[i + j]);
        PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(j), t);
      }
      Ref result(PyObject_CallOneArg(emit_batch_, list.get()));
      if (!result) return raised("emit_batch");
    }
    return {};
  }
  for (const auto& r : batch) {
    Ref args(record_tuple(r));
    if (!args) return unconvertible(r);
    Ref result(PyObject_Call(emit_, args.get(), nullptr));
    if (!result) return raised("emit");
  }
  return {};
}

Status PythonSink::flush() {
  if (instance_ == nullptr || flush_ == nullptr) return {};
  Gil gil;
  Ref result(PyObject_CallNoArgs(flush_));
  if (!result) return raised("flush");
  return {};
}

Status PythonSink::close() {
  if (closed_) return {};
  closed_ = true;
  if (instance_ == nullptr) return {};
  Gil gil;
  Status st;
  if (close_ != nullptr) {
    Ref result(PyObject_CallNoArgs(close_));
    if (!result) st = raised("close");
  }
  release_locked();
  return st;
}

void PythonSink::release_locked() {
  for (PyObject** p : {&emit_, &emit_batch_, &flush_, &close_, &instance_, &helpers_}) Py_CLEAR(*p);
  for (auto& k : keys_) Py_CLEAR(k);
  for (auto& o : origins_) Py_CLEAR(o);
  for (auto& [key, str] : strings_) Py_DECREF(str);
  strings_.clear();
}

}  // namespace af::python
