// The restricted unpickler against hand-written pickles: every opcode a
// torch.save file uses, and a clear error for everything else.

#include "models/unpickler.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace af::models {
namespace {

using namespace std::string_literals;

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

PicklePolicy torch_like() {
  PicklePolicy p;
  p.callables = {"torch._utils._rebuild_tensor_v2"};
  p.classes = {"torch.FloatStorage"};
  return p;
}

Result<PickleDocument> parse(const std::string& pickle, const PicklePolicy& policy = torch_like()) {
  const auto b = bytes(pickle);
  return unpickle(b, policy, "t.pkl");
}

std::string error_of(const std::string& pickle, const PicklePolicy& policy = torch_like()) {
  auto doc = parse(pickle, policy);
  EXPECT_FALSE(doc.ok());
  return doc.ok() ? std::string() : doc.error().message;
}

std::string u32(uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);
  return s;
}

std::string str(const std::string& s) { return "X"s + u32(static_cast<uint32_t>(s.size())) + s; }

TEST(Unpickler, ScalarsAndContainersOfProtocol2) {
  // {'i': 200, 'j': 40000, 'k': -5, 'big': 2**40, 'neg': -2**40, 'f': 0.1, 'n': None,
  //  't': True, 'u': False, 'tup': (1, 2), 'l': [3, 4, 5], 'shared': <memo of 'l'>}
  std::string p = "\x80\x02}q\x00("s;
  p += str("i") + "K\xc8";
  p += str("j") + "M\x40\x9c";
  p += str("k") + "J" + u32(static_cast<uint32_t>(-5));
  p += str("big") + std::string("\x8a\x06\x00\x00\x00\x00\x00\x01", 8);
  p += str("neg") + std::string("\x8a\x06\x00\x00\x00\x00\x00\xff", 8);
  p += str("f") + std::string("G\x3f\xb9\x99\x99\x99\x99\x99\x9a", 9);
  p += str("n") + "N" + str("t") + "\x88" + str("u") + "\x89";
  p += str("tup") + "K\x01K\x02\x86";
  p += str("l") + "]q\x01(K\x03K\x04" "eK\x05" "a";
  p += str("shared") + "h\x01";
  p += "u.";
  auto doc = parse(p);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const PickleValue& d = *doc->root;
  ASSERT_EQ(d.kind, PickleKind::kDict);
  EXPECT_EQ(d.entries.size(), 12u);
  EXPECT_EQ(d.find("i")->integer, 200);
  EXPECT_EQ(d.find("j")->integer, 40000);
  EXPECT_EQ(d.find("k")->integer, -5);
  EXPECT_EQ(d.find("big")->integer, int64_t{1} << 40);
  EXPECT_EQ(d.find("neg")->integer, -(int64_t{1} << 40));
  EXPECT_EQ(d.find("f")->real, 0.1);
  EXPECT_EQ(d.find("n")->kind, PickleKind::kNone);
  EXPECT_TRUE(d.find("t")->boolean);
  EXPECT_FALSE(d.find("u")->boolean);
  ASSERT_EQ(d.find("tup")->kind, PickleKind::kTuple);
  EXPECT_EQ(d.find("tup")->items[1]->integer, 2);
  ASSERT_EQ(d.find("l")->items.size(), 3u);
  EXPECT_EQ(d.find("l")->items[2]->integer, 5);
  // The memo shares the list itself, filled after it was stored.
  EXPECT_EQ(d.find("shared"), d.find("l"));
}

TEST(Unpickler, Protocol4And5Opcodes) {
  // FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, BINUNICODE8, SHORT_BINBYTES.
  std::string body = "\x8c\x0b" "collections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94";
  body += "\x8c\x01k\x94";
  body += std::string("\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi", 11);
  body += "s\x8c\x01" "b" "C\x03" "abc" "s.";
  std::string p = "\x80\x05\x95";
  const uint64_t n = body.size();
  p += std::string(reinterpret_cast<const char*>(&n), 8) + body;
  auto doc = parse(p);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ(doc->root->kind, PickleKind::kDict);
  EXPECT_TRUE(doc->root->find("k")->is_string("hi"));
  EXPECT_EQ(doc->root->find("b")->kind, PickleKind::kBytes);
  EXPECT_EQ(doc->root->find("b")->text, "abc");
}

TEST(Unpickler, AllowedCallIsRecordedNotRun) {
  const std::string p = "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n" "K\x07" "ctorch\nFloatStorage\n" "\x86R.";
  auto doc = parse(p);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const PickleValue& call = *doc->root;
  ASSERT_EQ(call.kind, PickleKind::kCall);
  EXPECT_EQ(call.items[0]->text, "torch._utils._rebuild_tensor_v2");
  EXPECT_EQ(call.items[1]->items[0]->integer, 7);
  EXPECT_EQ(pickle_type_name(*call.items[1]->items[1]), "global torch.FloatStorage");
}

TEST(Unpickler, ForeignGlobalsAreRefused) {
  EXPECT_EQ(error_of("\x80\x02" "cos\nsystem\n" + str("touch /tmp/x") + "\x85R."),
            "t.pkl: byte 2: global 'os.system' is not allowed (only collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2, torch.FloatStorage are)");
  EXPECT_EQ(error_of("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93."),
            "t.pkl: byte 18: global 'builtins.eval' is not allowed (only collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2, torch.FloatStorage are)");
  EXPECT_EQ(error_of("\x80\x02" "c" + std::string(300, 'a') + "\nb\n."),
            "t.pkl: byte 2: GLOBAL: no end of line within 256 bytes");
}

TEST(Unpickler, ReduceOfAnythingButAnAllowedCallableIsRefused) {
  EXPECT_EQ(error_of("\x80\x02" "ctorch\nFloatStorage\nK\x04\x85R."),
            "t.pkl: byte 25: REDUCE of global torch.FloatStorage is not allowed (it is not a callable this reader "
            "accepts)");
  EXPECT_EQ(error_of("\x80\x02" + str("x") + ")R."),
            "t.pkl: byte 9: REDUCE of str is not allowed (it is not a callable this reader accepts)");
  EXPECT_EQ(error_of("\x80\x02" "ccollections\nOrderedDict\n]\x85R."),
            "t.pkl: byte 29: REDUCE: collections.OrderedDict is only accepted with no arguments");
  EXPECT_EQ(error_of("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n]R."),
            "t.pkl: byte 36: REDUCE of torch._utils._rebuild_tensor_v2 with a list of arguments, not a tuple");
}

TEST(Unpickler, ObjectConstructionOpcodesAreRefused) {
  const std::string tail = ": this reader takes only containers, numbers, strings and the allowed globals";
  EXPECT_EQ(error_of("\x80\x02" "ccollections\nOrderedDict\n)\x81."),
            "t.pkl: byte 28: opcode NEWOBJ (0x81) is not supported" + tail);
  EXPECT_EQ(error_of("\x80\x02(iposix\nsystem\n."), "t.pkl: byte 3: opcode INST (0x69) is not supported" + tail);
  EXPECT_EQ(error_of("\x80\x02\x82\x01."), "t.pkl: byte 2: opcode EXT1 (0x82) is not supported" + tail);
  EXPECT_EQ(error_of("\x80\x02\x8f."), "t.pkl: byte 2: opcode EMPTY_SET (0x8f) is not supported" + tail);
  EXPECT_EQ(error_of("\x80\x05\x97."), "t.pkl: byte 2: opcode NEXT_BUFFER (0x97) is not supported" + tail);
  EXPECT_EQ(error_of("\x80\x02I1\n."), "t.pkl: byte 2: opcode INT (0x49) is not supported" + tail);
  EXPECT_EQ(error_of("\x80\x02" "ccollections\nOrderedDict\n)R]b."),
            "t.pkl: byte 30: BUILD (setting an object's state) on a dict with a list is not supported");
  EXPECT_EQ(error_of("\x80\x02\xff."), "t.pkl: byte 2: byte 0xff is not a pickle opcode");
  EXPECT_EQ(error_of("\x80\x06N."), "t.pkl: byte 0: pickle protocol 6 is not supported (2 to 5 are)");
}

TEST(Unpickler, MalformedStreamsAreErrors) {
  EXPECT_EQ(error_of("\x80\x02N"), "t.pkl: byte 3: truncated: the pickle ends without STOP");
  EXPECT_EQ(error_of("\x80\x02X\xe8\x03\x00\x00" "abc."s), "t.pkl: byte 2: truncated: needs 1000 more bytes, 4 left");
  EXPECT_EQ(error_of("\x80\x02K"), "t.pkl: byte 2: truncated: needs 1 more bytes, 0 left");
  EXPECT_EQ(error_of("\x80\x02\x8a\x09" + std::string(9, '\x01') + "."),
            "t.pkl: byte 2: integer of 9 bytes is wider than 64 bits");
  EXPECT_EQ(error_of("\x80\x02N\x86."), "t.pkl: byte 3: stack underflow (TUPLE2)");
  EXPECT_EQ(error_of("\x80\x02(N\x86."), "t.pkl: byte 4: stack underflow (TUPLE2)");
  EXPECT_EQ(error_of("\x80\x02Nt."), "t.pkl: byte 3: TUPLE without a MARK");
  EXPECT_EQ(error_of("\x80\x02]NNs."), "t.pkl: byte 5: SETITEM(S) on a list, not a dict");
  EXPECT_EQ(error_of("\x80\x02}(NNNu."), "t.pkl: byte 7: SETITEMS with an odd number of keys and values");
  EXPECT_EQ(error_of("\x80\x02}Na."), "t.pkl: byte 4: APPEND(S) to a dict, not a list");
  EXPECT_EQ(error_of("\x80\x02h\x05."), "t.pkl: byte 2: memo index 5 was never stored");
  EXPECT_EQ(error_of("\x80\x02."), "t.pkl: byte 2: stack underflow (STOP)");
}

TEST(Unpickler, EveryResourceIsBounded) {
  PicklePolicy small = torch_like();
  small.limits.max_stack = 10;
  EXPECT_EQ(error_of("\x80\x02" + std::string(11, 'N') + ".", small), "t.pkl: byte 12: stack deeper than 10 entries");
  small = torch_like();
  small.limits.max_marks = 3;
  EXPECT_EQ(error_of("\x80\x02((((", small), "t.pkl: byte 5: more than 3 nested MARKs");
  small = torch_like();
  small.limits.max_memo = 2;
  EXPECT_EQ(error_of("\x80\x02Nq\x00q\x01q\x00q\x02."s, small), "t.pkl: byte 9: memo larger than 2 entries");
  small = torch_like();
  small.limits.max_values = 5;
  EXPECT_EQ(error_of("\x80\x02]NaNaNaNaNa.", small), "t.pkl: byte 12: more than 5 values");
}

TEST(Unpickler, DeepNestingThroughTheMemoNeedsNoRecursion) {
  // l0 = []; l_{k+1} appended to l_k, 200000 deep, with a stack of at most three entries.
  std::string p = "\x80\x02]r"s + u32(0);
  const uint32_t depth = 200000;
  for (uint32_t k = 0; k < depth; ++k) p += "j"s + u32(k) + "]r" + u32(k + 1) + "a0";
  p += ".";
  auto doc = parse(p);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const PickleValue* v = doc->root;
  uint32_t seen = 0;
  while (!v->items.empty()) {
    v = v->items[0];
    ++seen;
  }
  EXPECT_EQ(seen, depth);
}

}  // namespace
}  // namespace af::models
