#include "models/torch_state_dict.hpp"

#include <array>
#include <fstream>
#include <optional>

#include "models/unpickler.hpp"
#include "models/zip_archive.hpp"

namespace af::models {

namespace {

constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";

// The storage classes torch.save names in a persistent id, and the dtype each holds.
constexpr std::array<std::pair<const char*, const char*>, 4> kStorageClasses{{
    {"torch.FloatStorage", "F32"},
    {"torch.DoubleStorage", "F64"},
    {"torch.HalfStorage", "F16"},
    {"torch.BFloat16Storage", "BF16"},
}};

// The keys a training script commonly stores its model's state_dict under.
constexpr std::array<const char*, 3> kStateDictKeys{"state_dict", "model_state_dict", "model"};

PicklePolicy torch_policy() {
  PicklePolicy p;
  p.callables = {kRebuildTensor};
  for (const auto& [cls, dtype] : kStorageClasses) p.classes.emplace_back(cls);
  return p;
}

std::string describe_key(const PickleValue& k) {
  return k.kind == PickleKind::kString ? "'" + k.text + "'" : pickle_described(k) + " key";
}

bool is_tensor(const PickleValue& v) {
  return v.kind == PickleKind::kCall && v.items[0]->text == kRebuildTensor;
}

// One storage as read from the archive, shared by every tensor that views it.
struct Storage {
  std::string dtype;
  int64_t numel = 0;
  std::vector<uint8_t> bytes;
};

// Turns the pickle's tensor calls into LoadedTensors, reading each storage once.
class TensorBuilder {
 public:
  TensorBuilder(const ZipArchive& zip, std::string prefix, const TorchLimits& limits)
      : zip_(zip), prefix_(std::move(prefix)), limits_(limits) {}

  // `call`: torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
  // requires_grad, backward_hooks[, metadata]).
  Result<LoadedTensor> build(const std::string& name, const PickleValue& call) {
    const std::string at = zip_.path() + ": tensor '" + name + "'";
    const auto& args = call.items[1]->items;
    if (args.size() != 6 && args.size() != 7)
      return make_error(at + ": " + kRebuildTensor + " with " + std::to_string(args.size()) +
                        " arguments (expected 6 or 7)");
    auto storage = resolve_storage(*args[0], at);
    if (!storage.ok()) return storage.error();
    if (args[1]->kind != PickleKind::kInt || args[1]->integer < 0)
      return make_error(at + ": storage offset is " + pickle_described(*args[1]) + ", not a non-negative int");
    const int64_t offset = args[1]->integer;
    auto size = int_tuple(*args[2], "size", at);
    if (!size.ok()) return size.error();
    auto stride = int_tuple(*args[3], "stride", at);
    if (!stride.ok()) return stride.error();
    if (size->size() != stride->size())
      return make_error(at + ": size " + shape_to_string(*size) + " and stride " + shape_to_string(*stride) +
                        " have different lengths");
    if (args[4]->kind != PickleKind::kBool)
      return make_error(at + ": requires_grad is " + pickle_described(*args[4]) + ", not a bool");
    if (args[5]->kind != PickleKind::kDict)
      return make_error(at + ": backward_hooks is " + pickle_described(*args[5]) + ", not a dict");
    if (args.size() == 7 && args[6]->kind != PickleKind::kDict && args[6]->kind != PickleKind::kNone)
      return make_error(at + ": metadata is " + pickle_described(*args[6]) + ", not a dict");

    int64_t numel = 1;
    for (int64_t d : *size) {
      if (d > limits_.max_tensor_elements || (d > 0 && numel > limits_.max_tensor_elements / d))
        return make_error(at + ": size " + shape_to_string(*size) + " has more than " +
                          std::to_string(limits_.max_tensor_elements) + " elements");
      numel *= d;
    }
    const Storage& s = **storage;
    if (numel > 0) {
      // The last element the view reaches, added up without overflow: each step
      // stays below the storage's element count or the view does not fit.
      int64_t last = offset;
      bool fits = offset < s.numel;
      for (size_t i = 0; fits && i < size->size(); ++i) {
        const int64_t span = (*size)[i] - 1;
        if (span > 0 && (*stride)[i] > (s.numel - 1 - last) / span) fits = false;
        if (fits) last += span * (*stride)[i];
      }
      if (!fits)
        return make_error(at + ": offset " + std::to_string(offset) + ", size " + shape_to_string(*size) +
                          " and stride " + shape_to_string(*stride) + " reach past the end of its storage (" +
                          std::to_string(s.numel) + " " + s.dtype + " elements)");
    }
    LoadedTensor t;
    t.dtype = s.dtype;
    t.shape = *size;
    t.data.resize(static_cast<size_t>(numel));
    const ElementDecoder decode = element_decoder(s.dtype);
    const auto esize = static_cast<size_t>(dtype_size(s.dtype));
    // Row-major walk over the view: `index` counts like an odometer, `elem`
    // follows it through the strides.
    std::vector<int64_t> index(size->size(), 0);
    int64_t elem = offset;
    for (int64_t n = 0; n < numel; ++n) {
      t.data[static_cast<size_t>(n)] = decode(s.bytes.data() + static_cast<size_t>(elem) * esize);
      for (size_t i = index.size(); i-- > 0;) {
        if (++index[i] < (*size)[i]) {
          elem += (*stride)[i];
          break;
        }
        elem -= (index[i] - 1) * (*stride)[i];
        index[i] = 0;
      }
    }
    return t;
  }

 private:
  Result<std::vector<int64_t>> int_tuple(const PickleValue& v, const char* what, const std::string& at) const {
    if (v.kind != PickleKind::kTuple)
      return make_error(at + ": " + what + " is " + pickle_described(v) + ", not a tuple");
    if (v.items.size() > limits_.max_dims)
      return make_error(at + ": " + what + " has " + std::to_string(v.items.size()) + " dimensions, more than " +
                        std::to_string(limits_.max_dims));
    std::vector<int64_t> out;
    for (const PickleValue* x : v.items) {
      if (x->kind != PickleKind::kInt || x->integer < 0)
        return make_error(at + ": " + what + " holds " +
                          (x->kind == PickleKind::kInt ? "a negative int" : pickle_described(*x)) +
                          ", not a non-negative int");
      out.push_back(x->integer);
    }
    return out;
  }

  // A persistent id ('storage', <storage class>, key, location, numel): the storage
  // `<prefix>data/<key>`, read and checked the first time it is named.
  Result<const Storage*> resolve_storage(const PickleValue& arg, const std::string& at) {
    if (arg.kind != PickleKind::kPersistentId)
      return make_error(at + ": its storage is " + pickle_described(arg) + ", not a persistent id");
    const PickleValue& id = *arg.items[0];
    if (id.kind != PickleKind::kTuple || id.items.size() != 5 || !id.items[0]->is_string("storage") ||
        id.items[1]->kind != PickleKind::kGlobal || id.items[2]->kind != PickleKind::kString ||
        id.items[4]->kind != PickleKind::kInt)
      return make_error(at + ": its persistent id is not ('storage', <storage class>, key, location, numel)");
    const std::string& cls = id.items[1]->text;
    const char* dtype = nullptr;
    for (const auto& [name, dt] : kStorageClasses)
      if (cls == name) dtype = dt;
    if (!dtype) return make_error(at + ": " + cls + " is not a storage class");
    const std::string entry = prefix_ + "data/" + id.items[2]->text;
    const int64_t numel = id.items[4]->integer;
    const int esize = dtype_size(dtype);
    if (numel < 0 || static_cast<uint64_t>(numel) > limits_.max_storage_bytes / static_cast<uint64_t>(esize))
      return make_error(at + ": storage '" + entry + "' declares " + std::to_string(numel) + " " + dtype +
                        " elements, more than the limit of " + std::to_string(limits_.max_storage_bytes) + " bytes");
    auto it = storages_.find(entry);
    if (it != storages_.end()) {
      if (it->second.dtype != dtype || it->second.numel != numel)
        return make_error(at + ": storage '" + entry + "' is named as " + std::to_string(numel) + " " + dtype +
                          " elements here and as " + std::to_string(it->second.numel) + " " + it->second.dtype +
                          " elements elsewhere");
      return &it->second;
    }
    const uint64_t want = static_cast<uint64_t>(numel) * static_cast<uint64_t>(esize);
    if (want > limits_.max_total_bytes - total_bytes_)
      return make_error(at + ": the state_dict's storages exceed the limit of " +
                        std::to_string(limits_.max_total_bytes) + " bytes");
    auto declared = zip_.declared_size(entry);
    if (!declared.ok()) return declared.error();
    if (*declared != want)
      return make_error(at + ": storage '" + entry + "' holds " + std::to_string(*declared) +
                        " bytes but its persistent id declares " + std::to_string(numel) + " " + dtype + " elements (" +
                        std::to_string(want) + " bytes)");
    auto bytes = zip_.read(entry, want);
    if (!bytes.ok()) return bytes.error();
    total_bytes_ += want;
    Storage& s = storages_[entry];
    s.dtype = dtype;
    s.numel = numel;
    s.bytes = std::move(*bytes);
    return &s;
  }

  const ZipArchive& zip_;
  std::string prefix_;
  const TorchLimits& limits_;
  std::map<std::string, Storage> storages_;
  uint64_t total_bytes_ = 0;
};

// Tells the formats torch.save can be mistaken for apart from a zip archive.
Status check_zip_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  unsigned char magic[4] = {};
  in.read(reinterpret_cast<char*>(magic), 4);
  if (in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return {};
  if (in.gcount() >= 1 && magic[0] == 0x80)
    return make_error(path + ": a legacy (pre-zip) torch.save file, written by PyTorch < 1.6 or with "
                             "_use_new_zipfile_serialization=False; load it and save it again with torch.save");
  return make_error(path + ": not a torch.save file (no zip signature)");
}

// The record prefix ("archive/", "model/") of the unique `<prefix>data.pkl`.
Result<std::string> record_prefix(const ZipArchive& zip) {
  std::optional<std::string> prefix;
  bool torchscript = false;
  for (const auto& name : zip.names()) {
    const auto slash = name.find('/');
    if (slash == std::string::npos) continue;
    const std::string rest = name.substr(slash + 1);
    if (rest == "constants.pkl") torchscript = true;
    if (rest != "data.pkl") continue;
    if (prefix) return make_error(zip.path() + ": holds two data.pkl records: not a single torch.save file");
    prefix = name.substr(0, slash + 1);
  }
  if (torchscript)
    return make_error(zip.path() + ": a TorchScript archive (torch.jit.save); save the model's state_dict with "
                                   "torch.save(model.state_dict(), path) instead");
  if (!prefix) return make_error(zip.path() + ": a zip archive without a '<name>/data.pkl' record: not a torch.save file");
  return *prefix;
}

}  // namespace

Result<TorchStateDict> read_torch_state_dict(const std::string& path, const TorchLimits& limits) {
  if (auto st = check_zip_magic(path); !st.ok()) return st.error();
  auto zip = ZipArchive::open(path);
  if (!zip.ok()) return zip.error();
  auto prefix = record_prefix(*zip);
  if (!prefix.ok()) return prefix.error();
  if (zip->contains(*prefix + "byteorder")) {
    auto order = zip->read(*prefix + "byteorder", 16);
    if (!order.ok()) return order.error();
    if (std::string(order->begin(), order->end()) != "little")
      return make_error(path + ": storages are big-endian (byteorder record); only little-endian files are read");
  }
  auto pickle = zip->read(*prefix + "data.pkl", limits.max_pickle_bytes);
  if (!pickle.ok()) return pickle.error();
  auto doc = unpickle(*pickle, torch_policy(), path + ": " + *prefix + "data.pkl");
  if (!doc.ok()) return doc.error();

  const PickleValue& root = *doc->root;
  if (root.kind != PickleKind::kDict)
    return make_error(path + ": holds " + pickle_described(root) +
                      ", not a state_dict or a dict holding one under 'state_dict', 'model_state_dict' or 'model'");
  TorchStateDict out;
  const PickleValue* sd = nullptr;
  for (const char* key : kStateDictKeys) {
    const PickleValue* v = root.find(key);
    if (v && v->kind == PickleKind::kDict) {
      sd = v;
      out.key = key;
      break;
    }
  }
  if (sd) {
    for (const auto& [k, v] : root.entries)
      if (!k->is_string(out.key)) out.other_keys.push_back(k->kind == PickleKind::kString ? k->text : describe_key(*k));
  } else {
    sd = &root;
    for (const auto& [k, v] : root.entries) {
      if (is_tensor(*v)) continue;
      std::string keys;
      for (const auto& e : root.entries) keys += (keys.empty() ? "" : ", ") + describe_key(*e.first);
      return make_error(path + ": holds no state_dict: a dict whose entry " + describe_key(*k) + " is " +
                        pickle_described(*v) + ", not a tensor, and no dict under 'state_dict', 'model_state_dict' "
                        "or 'model' (top-level keys: " + keys + ")");
    }
  }
  const std::string where = out.key.empty() ? path + ": state_dict" : path + ": state_dict under '" + out.key + "'";
  if (sd->entries.empty()) return make_error(where + " is empty");
  TensorBuilder builder(*zip, *prefix, limits);
  for (const auto& [k, v] : sd->entries) {
    if (k->kind != PickleKind::kString) return make_error(where + " has " + describe_key(*k) + ", not a tensor name");
    if (!is_tensor(*v))
      return make_error(where + ": entry '" + k->text + "' is " + pickle_described(*v) + ", not a tensor");
    auto t = builder.build(k->text, *v);
    if (!t.ok()) return t.error();
    out.tensors.emplace(k->text, std::move(*t));
  }
  return out;
}

}  // namespace af::models
