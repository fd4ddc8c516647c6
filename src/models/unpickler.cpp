#include "models/unpickler.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_map>

namespace af::models {

namespace {

// A GLOBAL's module or name longer than this is not a real Python identifier path.
constexpr size_t kMaxGlobalLine = 256;

const char* opcode_name(uint8_t op) {
  switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

std::string hex_byte(uint8_t b) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

bool same_key(const PickleValue& a, const PickleValue& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == PickleKind::kString || a.kind == PickleKind::kBytes) return a.text == b.text;
  if (a.kind == PickleKind::kInt) return a.integer == b.integer;
  return false;
}

// One pass over one pickle stream. Every failure returns an Error naming the
// stream, the opcode's byte offset and what was wrong.
class Unpickler {
 public:
  Unpickler(std::span<const uint8_t> bytes, const PicklePolicy& policy, const std::string& where)
      : bytes_(bytes), policy_(policy), where_(where) {}

  Result<PickleDocument> run() {
    while (pos_ < bytes_.size()) {
      op_pos_ = pos_;
      const uint8_t op = bytes_[pos_++];
      if (doc_.values.size() > policy_.limits.max_values)
        return fail("more than " + std::to_string(policy_.limits.max_values) + " values");
      if (op == '.') {
        auto root = pop();
        if (!root.ok()) return root.error();
        doc_.root = *root;
        return std::move(doc_);
      }
      if (auto st = step(op); !st.ok()) return st.error();
    }
    op_pos_ = pos_;
    return fail("truncated: the pickle ends without STOP");
  }

 private:
  Error fail(const std::string& what) const {
    return make_error(where_ + ": byte " + std::to_string(op_pos_) + ": " + what);
  }

  // ---- input ----
  Status need(uint64_t n) const {
    if (n > bytes_.size() - pos_)
      return fail("truncated: needs " + std::to_string(n) + " more bytes, " + std::to_string(bytes_.size() - pos_) +
                  " left");
    return {};
  }
  template <class T>
  Result<T> read_le() {
    if (auto st = need(sizeof(T)); !st.ok()) return st.error();
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Result<std::string> read_bytes(uint64_t n) {
    if (auto st = need(n); !st.ok()) return st.error();
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  Result<std::string> read_line() {
    const size_t limit = std::min(bytes_.size(), pos_ + kMaxGlobalLine + 1);
    for (size_t i = pos_; i < limit; ++i) {
      if (bytes_[i] == '\n') {
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), i - pos_);
        pos_ = i + 1;
        return s;
      }
    }
    return fail("GLOBAL: no end of line within " + std::to_string(kMaxGlobalLine) + " bytes");
  }

  // ---- values and stack ----
  PickleValue* make(PickleKind kind) {
    doc_.values.push_back(std::make_unique<PickleValue>());
    doc_.values.back()->kind = kind;
    return doc_.values.back().get();
  }
  Status push(PickleValue* v) {
    if (stack_.size() >= policy_.limits.max_stack)
      return fail("stack deeper than " + std::to_string(policy_.limits.max_stack) + " entries");
    stack_.push_back(v);
    return {};
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Result<PickleValue*> pop() {
    if (stack_.size() <= floor()) return fail(std::string("stack underflow (") + opcode_name(bytes_[op_pos_]) + ")");
    PickleValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Result<PickleValue*> top() {
    if (stack_.size() <= floor()) return fail(std::string("stack underflow (") + opcode_name(bytes_[op_pos_]) + ")");
    return stack_.back();
  }
  // The values pushed since the last MARK, which is removed.
  Result<std::vector<PickleValue*>> pop_mark() {
    if (marks_.empty()) return fail(std::string(opcode_name(bytes_[op_pos_])) + " without a MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleValue*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }

  Status push_int(int64_t v) {
    PickleValue* p = make(PickleKind::kInt);
    p->integer = v;
    return push(p);
  }
  Status push_text(PickleKind kind, uint64_t n) {
    auto s = read_bytes(n);
    if (!s.ok()) return s.error();
    PickleValue* p = make(kind);
    p->text = std::move(*s);
    return push(p);
  }
  Status push_long(uint64_t n) {
    if (n > 8) return fail("integer of " + std::to_string(n) + " bytes is wider than 64 bits");
    auto s = read_bytes(n);
    if (!s.ok()) return s.error();
    uint64_t u = 0;
    for (size_t i = 0; i < n; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>((*s)[i])) << (8 * i);
    if (n > 0 && n < 8 && (static_cast<uint8_t>((*s)[n - 1]) & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    return push_int(static_cast<int64_t>(u));
  }
  Status push_tuple(std::vector<PickleValue*> items) {
    PickleValue* t = make(PickleKind::kTuple);
    t->items = std::move(items);
    return push(t);
  }
  Result<std::vector<PickleValue*>> pop_n(size_t n) {
    std::vector<PickleValue*> items(n);
    for (size_t i = n; i-- > 0;) {
      auto v = pop();
      if (!v.ok()) return v.error();
      items[i] = *v;
    }
    return items;
  }

  Status set_items(PickleValue* dict, const std::vector<PickleValue*>& kv) {
    if (dict->kind != PickleKind::kDict) return fail("SETITEM(S) on " + pickle_described(*dict) + ", not a dict");
    if (kv.size() % 2) return fail("SETITEMS with an odd number of keys and values");
    for (size_t i = 0; i < kv.size(); i += 2) {
      auto it = std::find_if(dict->entries.begin(), dict->entries.end(),
                             [&](const auto& e) { return same_key(*e.first, *kv[i]); });
      if (it != dict->entries.end())
        it->second = kv[i + 1];
      else
        dict->entries.emplace_back(kv[i], kv[i + 1]);
    }
    return {};
  }
  Status append(PickleValue* list, const std::vector<PickleValue*>& items) {
    if (list->kind != PickleKind::kList) return fail("APPEND(S) to " + pickle_described(*list) + ", not a list");
    list->items.insert(list->items.end(), items.begin(), items.end());
    return {};
  }

  Status memo_put(uint64_t index) {
    auto v = top();
    if (!v.ok()) return v.error();
    if (!memo_.count(index) && memo_.size() >= policy_.limits.max_memo)
      return fail("memo larger than " + std::to_string(policy_.limits.max_memo) + " entries");
    memo_[index] = *v;
    return {};
  }
  Status memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return fail("memo index " + std::to_string(index) + " was never stored");
    return push(it->second);
  }

  bool allowed(const std::vector<std::string>& list, const std::string& name) const {
    return std::find(list.begin(), list.end(), name) != list.end();
  }
  Status push_global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (full != kOrderedDict && !allowed(policy_.callables, full) && !allowed(policy_.classes, full)) {
      std::string list = kOrderedDict;
      for (const auto& g : policy_.callables) list += ", " + g;
      for (const auto& g : policy_.classes) list += ", " + g;
      return fail("global '" + full + "' is not allowed (only " + list + " are)");
    }
    PickleValue* g = make(PickleKind::kGlobal);
    g->text = full;
    return push(g);
  }
  Status reduce() {
    auto args = pop();
    if (!args.ok()) return args.error();
    auto callable = pop();
    if (!callable.ok()) return callable.error();
    const PickleValue& f = **callable;
    if (f.kind == PickleKind::kGlobal && f.text == kOrderedDict) {
      if ((*args)->kind != PickleKind::kTuple || !(*args)->items.empty())
        return fail("REDUCE: collections.OrderedDict is only accepted with no arguments");
      return push(make(PickleKind::kDict));
    }
    if (f.kind != PickleKind::kGlobal || !allowed(policy_.callables, f.text))
      return fail("REDUCE of " + pickle_type_name(f) + " is not allowed (it is not a callable this reader accepts)");
    if ((*args)->kind != PickleKind::kTuple) return fail("REDUCE of " + f.text + " with " + pickle_described(**args) +
                                                         " of arguments, not a tuple");
    PickleValue* call = make(PickleKind::kCall);
    call->items = {*callable, *args};
    return push(call);
  }
  Status build() {
    auto state = pop();
    if (!state.ok()) return state.error();
    auto target = top();
    if (!target.ok()) return target.error();
    const bool attributes = (*state)->kind == PickleKind::kDict || (*state)->kind == PickleKind::kNone;
    if ((*target)->kind != PickleKind::kDict || !attributes)
      return fail("BUILD (setting an object's state) on " + pickle_described(**target) + " with " +
                  pickle_described(**state) + " is not supported");
    return {};  // an OrderedDict's attributes (state_dict._metadata): nothing the reader needs
  }

  Status step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        auto v = read_le<uint8_t>();
        if (!v.ok()) return v.error();
        if (*v < 2 || *v > 5) return fail("pickle protocol " + std::to_string(*v) + " is not supported (2 to 5 are)");
        return {};
      }
      case 0x95: {  // FRAME: a length prefix for buffered reading; the data follows inline
        auto n = read_le<uint64_t>();
        if (!n.ok()) return n.error();
        if (*n > bytes_.size() - pos_) return fail("FRAME of " + std::to_string(*n) + " bytes runs past the end");
        return {};
      }
      case '(':
        if (marks_.size() >= policy_.limits.max_marks)
          return fail("more than " + std::to_string(policy_.limits.max_marks) + " nested MARKs");
        marks_.push_back(stack_.size());
        return {};
      case '0':  // POP: an item above the mark, else the mark itself
        if (stack_.size() > floor()) {
          stack_.pop_back();
          return {};
        }
        if (marks_.empty()) return fail("POP of an empty stack");
        marks_.pop_back();
        return {};
      case '1': {
        auto items = pop_mark();
        if (!items.ok()) return items.error();
        return {};
      }
      case '2': {
        auto v = top();
        if (!v.ok()) return v.error();
        return push(*v);
      }
      case 'N': return push(make(PickleKind::kNone));
      case 0x88:
      case 0x89: {
        PickleValue* b = make(PickleKind::kBool);
        b->boolean = op == 0x88;
        return push(b);
      }
      case 'J': {
        auto v = read_le<int32_t>();
        if (!v.ok()) return v.error();
        return push_int(*v);
      }
      case 'K': {
        auto v = read_le<uint8_t>();
        if (!v.ok()) return v.error();
        return push_int(*v);
      }
      case 'M': {
        auto v = read_le<uint16_t>();
        if (!v.ok()) return v.error();
        return push_int(*v);
      }
      case 0x8a: {
        auto n = read_le<uint8_t>();
        if (!n.ok()) return n.error();
        return push_long(*n);
      }
      case 0x8b: {
        auto n = read_le<int32_t>();
        if (!n.ok()) return n.error();
        if (*n < 0) return fail("LONG4 with a negative length");
        return push_long(static_cast<uint64_t>(*n));
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        auto v = read_le<uint64_t>();
        if (!v.ok()) return v.error();
        PickleValue* f = make(PickleKind::kFloat);
        f->real = std::bit_cast<double>(__builtin_bswap64(*v));
        return push(f);
      }
      case 'X': {
        auto n = read_le<uint32_t>();
        if (!n.ok()) return n.error();
        return push_text(PickleKind::kString, *n);
      }
      case 0x8c: {
        auto n = read_le<uint8_t>();
        if (!n.ok()) return n.error();
        return push_text(PickleKind::kString, *n);
      }
      case 0x8d: {
        auto n = read_le<uint64_t>();
        if (!n.ok()) return n.error();
        return push_text(PickleKind::kString, *n);
      }
      case 'B': {
        auto n = read_le<uint32_t>();
        if (!n.ok()) return n.error();
        return push_text(PickleKind::kBytes, *n);
      }
      case 'C': {
        auto n = read_le<uint8_t>();
        if (!n.ok()) return n.error();
        return push_text(PickleKind::kBytes, *n);
      }
      case 0x8e: {
        auto n = read_le<uint64_t>();
        if (!n.ok()) return n.error();
        return push_text(PickleKind::kBytes, *n);
      }
      case ')': return push_tuple({});
      case 0x85:
      case 0x86:
      case 0x87: {
        auto items = pop_n(static_cast<size_t>(op - 0x84));
        if (!items.ok()) return items.error();
        return push_tuple(std::move(*items));
      }
      case 't': {
        auto items = pop_mark();
        if (!items.ok()) return items.error();
        return push_tuple(std::move(*items));
      }
      case ']': return push(make(PickleKind::kList));
      case 'l': {
        auto items = pop_mark();
        if (!items.ok()) return items.error();
        PickleValue* l = make(PickleKind::kList);
        l->items = std::move(*items);
        return push(l);
      }
      case 'a': {
        auto v = pop();
        if (!v.ok()) return v.error();
        auto list = top();
        if (!list.ok()) return list.error();
        return append(*list, {*v});
      }
      case 'e': {
        auto items = pop_mark();
        if (!items.ok()) return items.error();
        auto list = top();
        if (!list.ok()) return list.error();
        return append(*list, *items);
      }
      case '}': return push(make(PickleKind::kDict));
      case 'd': {
        auto kv = pop_mark();
        if (!kv.ok()) return kv.error();
        PickleValue* d = make(PickleKind::kDict);
        if (auto st = set_items(d, *kv); !st.ok()) return st;
        return push(d);
      }
      case 's': {
        auto kv = pop_n(2);
        if (!kv.ok()) return kv.error();
        auto dict = top();
        if (!dict.ok()) return dict.error();
        return set_items(*dict, *kv);
      }
      case 'u': {
        auto kv = pop_mark();
        if (!kv.ok()) return kv.error();
        auto dict = top();
        if (!dict.ok()) return dict.error();
        return set_items(*dict, *kv);
      }
      case 'q': {
        auto i = read_le<uint8_t>();
        if (!i.ok()) return i.error();
        return memo_put(*i);
      }
      case 'r': {
        auto i = read_le<uint32_t>();
        if (!i.ok()) return i.error();
        return memo_put(*i);
      }
      case 0x94: return memo_put(memo_.size());
      case 'h': {
        auto i = read_le<uint8_t>();
        if (!i.ok()) return i.error();
        return memo_get(*i);
      }
      case 'j': {
        auto i = read_le<uint32_t>();
        if (!i.ok()) return i.error();
        return memo_get(*i);
      }
      case 'c': {
        auto module = read_line();
        if (!module.ok()) return module.error();
        auto name = read_line();
        if (!name.ok()) return name.error();
        return push_global(*module, *name);
      }
      case 0x93: {
        auto parts = pop_n(2);
        if (!parts.ok()) return parts.error();
        if ((*parts)[0]->kind != PickleKind::kString || (*parts)[1]->kind != PickleKind::kString)
          return fail("STACK_GLOBAL needs two strings (module, name)");
        return push_global((*parts)[0]->text, (*parts)[1]->text);
      }
      case 'R': return reduce();
      case 'b': return build();
      case 'Q': {
        auto id = pop();
        if (!id.ok()) return id.error();
        PickleValue* p = make(PickleKind::kPersistentId);
        p->items = {*id};
        return push(p);
      }
      default: {
        const char* name = opcode_name(op);
        if (!name) return fail("byte " + hex_byte(op) + " is not a pickle opcode");
        return fail(std::string("opcode ") + name + " (" + hex_byte(op) +
                    ") is not supported: this reader takes only containers, numbers, strings and the allowed globals");
      }
    }
  }

  std::span<const uint8_t> bytes_;
  const PicklePolicy& policy_;
  const std::string& where_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  PickleDocument doc_;
  std::vector<PickleValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValue*> memo_;
};

}  // namespace

Result<PickleDocument> unpickle(std::span<const uint8_t> bytes, const PicklePolicy& policy, const std::string& where) {
  return Unpickler(bytes, policy, where).run();
}

}  // namespace af::models
