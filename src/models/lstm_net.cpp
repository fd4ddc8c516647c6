#include "models/lstm_net.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <string>

namespace af::models {

namespace detail {

struct KernelArgs {
  int input_size, hidden, layers, dirs, gates, panel, steps, n;
  const float* const* inputs;
  const float* const* w_ih;  // per (layer, direction)
  const float* const* w_hh;
  const float* const* bias;
  const float* head_w;
  float head_b;
  float* seq_a;
  float* seq_b;
  float* gin;
  float* h;
  float* c;
  float* last;
  const float** xs;
  float** ys;
  float* out;
};

}  // namespace detail

namespace {

using detail::KernelArgs;

#define AF_MODELS_INLINE inline __attribute__((always_inline))

// The helpers below pass vectors by value; they are always inlined into the
// kernels (the only functions called from outside), so the AVX-vs-baseline
// calling convention that -Wpsabi warns about never applies. (g++ reports it at
// the end of the file, so it is off for this file.)
#pragma GCC diagnostic ignored "-Wpsabi"

// Eight and sixteen floats; the reduced alignment lets the kernel load from any
// float address. The matrix tiles are written once for a vector type V: the
// AVX-512 build uses Vf16, the AVX2 build Vf8, the SSE2 baseline Vf4.
typedef float Vf8 __attribute__((vector_size(32), aligned(4)));
typedef float Vf16 __attribute__((vector_size(64), aligned(4)));
typedef float Vf4 __attribute__((vector_size(16), aligned(4)));
// gates_ is a multiple of this: every tile width below divides it (4 x Vf16 is the
// widest used when gates_ is not a multiple of 128). Padded columns are computed
// and never read, so a small hidden size (the example's 16: 4H = 64) wastes none.
constexpr int kGatePad = 64;
// Panel width of the packed weights when the gate width allows (8 x Vf16).
constexpr int kPanel = 128;

template <class V>
constexpr int lanes() {
  return static_cast<int>(sizeof(V) / sizeof(float));
}

// Unaligned vector loads and stores (memcpy: a template argument loses the
// typedef's reduced alignment, so a plain dereference could become an aligned move).
template <class V>
AF_MODELS_INLINE V loadv(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V>
AF_MODELS_INLINE void storev(float* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}
#define AF_LOADV(V, p) loadv<V>(p)
#define AF_STOREV(V, p, v) storev<V>((p), (v))

// The weights are packed in panels of kPanel (or, when the padded gate width is
// not a multiple of it, kGatePad) columns: panel q holds columns [q P, q P + P)
// of every row k, row after row, so a tile streams one contiguous block instead
// of a slice of every 1 KiB row (at batch 1 the recurrent weights come from L2
// on every step, and a single forward stream is what the prefetcher serves best).
struct Packed {
  const float* w;  // panels, [m / P][k_count][P]
  int panel;       // P
};

AF_MODELS_INLINE const float* panel_at(const Packed& wt, int k_count, int j0) {
  return wt.w + static_cast<size_t>(j0 / wt.panel) * k_count * wt.panel + j0 % wt.panel;
}

// y[s][j0 .. j0 + NV*L) += sum_k wt[k][j] * x[s][k] for S samples: NV*S
// accumulators live in registers while the weight rows stream past, each
// weight vector loaded once for all S samples. The per-element arithmetic is a
// chain of fused multiply-adds over k in order, whatever V, S and NV are (see
// lstm_net.hpp): that is what makes batch and single results bit-identical.
template <class V, int S, int NV>
AF_MODELS_INLINE void tile(const Packed& wt, int k_count, const float* const* x, float* const* y, int j0) {
  constexpr int L = lanes<V>();
  const float* w0 = panel_at(wt, k_count, j0);
  const int stride = wt.panel;
  V acc[S][NV];
  for (int s = 0; s < S; ++s)
    for (int v = 0; v < NV; ++v) acc[s][v] = AF_LOADV(V, y[s] + j0 + v * L);
  for (int k = 0; k < k_count; ++k) {
    const float* wk = w0 + static_cast<size_t>(k) * stride;
    V w[NV];
    for (int v = 0; v < NV; ++v) w[v] = AF_LOADV(V, wk + v * L);
    for (int s = 0; s < S; ++s) {
      const float xs = x[s][k];
      for (int v = 0; v < NV; ++v) acc[s][v] = acc[s][v] + w[v] * xs;
    }
  }
  for (int s = 0; s < S; ++s)
    for (int v = 0; v < NV; ++v) AF_STOREV(V, y[s] + j0 + v * L, acc[s][v]);
}

// `backwards` walks the column tiles from the last: the recurrence alternates the
// direction every step (and every group of four samples), so the tiles it streamed
// last, still in L1, are the first it needs again. At hidden 64 the recurrent
// matrix is 64 KiB, more than L1d; walked the same way each time, none of it would
// survive until the next step (batch 1: 110 -> 87 us). The order of the tiles
// never changes what a column adds up.
template <class V, int S, int NV>
AF_MODELS_INLINE void tiles(const Packed& wt, int m, int k_count, const float* const* x, float* const* y,
                            bool backwards = false) {
  constexpr int W = NV * lanes<V>();
  if (backwards) {
    for (int j0 = m - W; j0 >= 0; j0 -= W) tile<V, S, NV>(wt, k_count, x, y, j0);
  } else {
    for (int j0 = 0; j0 < m; j0 += W) tile<V, S, NV>(wt, k_count, x, y, j0);
  }
}

// y[i] += W x[i] for n vectors (W transposed and packed, [k_count][m]).
template <class V>
AF_MODELS_INLINE void matvec_many(const Packed& wt, int m, int k_count, int n, const float* const* x, float* const* y,
                                  bool backwards = false) {
  // Four samples: 4 x 4 accumulators where the registers allow (32 in AVX-512), so
  // each weight vector and each broadcast input feeds four fused multiply-adds and
  // sixteen independent chains hide the multiply-add latency; 4 x 2 in AVX2's 16.
  constexpr int kWide4 = lanes<V>() == 16 ? 4 : 2;
  int i = 0;
  for (; i + 4 <= n; i += 4) tiles<V, 4, kWide4>(wt, m, k_count, x + i, y + i, backwards != ((i / 4) % 2 == 1));
  // One sample: as many accumulators as the panel allows (every tile width here
  // divides it; the same fused multiply-adds per element either way).
  const bool wide = wt.panel % (8 * lanes<V>()) == 0;
  for (; i < n; ++i) {
    if (wide) {
      tiles<V, 1, 8>(wt, m, k_count, x + i, y + i, backwards);
    } else {
      tiles<V, 1, 4>(wt, m, k_count, x + i, y + i, backwards);
    }
  }
}

// Int32 vectors as wide as Vf4 / Vf8 / Vf16, for the exponent bits in expv.
typedef int32_t Vi4 __attribute__((vector_size(16)));
typedef int32_t Vi8 __attribute__((vector_size(32)));
typedef int32_t Vi16 __attribute__((vector_size(64)));
// (Keyed by byte size: a template argument would drop Vf*'s alignment attribute.)
template <size_t Bytes>
struct IntVec;
template <>
struct IntVec<16> {
  using type = Vi4;
};
template <>
struct IntVec<32> {
  using type = Vi8;
};
template <>
struct IntVec<64> {
  using type = Vi16;
};

template <class V>
AF_MODELS_INLINE V splat(float v) {
  return V{} + v;
}

// exp(x) per lane for x in [-87, 88] (clamped outside) to a few float ulps:
// x = n ln2 + r, a degree-7 polynomial for e^r on |r| <= ln2/2, 2^n from the
// exponent bits. Written on vectors so that every element, including the tail
// of a hidden size that is not a multiple of the width, goes through the same
// code; each lane's operations are the same whatever the width V, so the
// AVX-512 kernel (16 lanes) and the AVX2 one (8) agree bit for bit.
template <class V>
AF_MODELS_INLINE V expv(V x) {
  using VI = typename IntVec<sizeof(V)>::type;
  const V lo = splat<V>(-87.0f), hi = splat<V>(88.0f);
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const V magic = splat<V>(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const V n = (x * 1.44269504088896341f + magic) - magic;
  V r = x - n * 0.693359375f;  // ln2 split in two for an exact first product
  r = r - n * -2.12194440e-4f;
  V p = splat<V>(1.0f / 5040.0f);
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const VI bits = (__builtin_convertvector(n, VI) + 127) << 23;
  return p * (V)bits;  // the same bytes read as floats
}

template <class V>
AF_MODELS_INLINE V sigmoidv(V x) {
  return 1.0f / (1.0f + expv(-x));
}
template <class V>
AF_MODELS_INLINE V tanhv(V x) {
  return 1.0f - 2.0f / (1.0f + expv(2.0f * x));
}

// One LSTM cell step on lanes<V>() units: pre-activations of gates i, f, g, o; c and h in place.
template <class V>
AF_MODELS_INLINE void cellv(const float* gi, const float* gf, const float* gg, const float* go, float* c, float* h) {
  const V cn = sigmoidv(AF_LOADV(V, gf)) * AF_LOADV(V, c) + sigmoidv(AF_LOADV(V, gi)) * tanhv(AF_LOADV(V, gg));
  AF_STOREV(V, c, cn);
  AF_STOREV(V, h, sigmoidv(AF_LOADV(V, go)) * tanhv(cn));
}

// One LSTM cell step from the pre-activations g = [i f g o] (PyTorch's order),
// on the kernel's vector width (the AVX-512 kernel does 16 units at a time: half
// the instructions of 8 on the latency-bound chain of batch 1). A tail of fewer
// units goes through cellv on padded copies.
template <class V>
AF_MODELS_INLINE void cell(const float* g, float* c, float* h, int hidden) {
  constexpr int L = lanes<V>();
  int j = 0;
  for (; j + L <= hidden; j += L) cellv<V>(g + j, g + hidden + j, g + 2 * hidden + j, g + 3 * hidden + j, c + j, h + j);
  if (j < hidden) {
    const int rest = hidden - j;
    float t[6][L] = {};
    for (int q = 0; q < rest; ++q) {
      for (int gate = 0; gate < 4; ++gate) t[gate][q] = g[gate * hidden + j + q];
      t[4][q] = c[j + q];
    }
    cellv<V>(t[0], t[1], t[2], t[3], t[4], t[5]);
    for (int q = 0; q < rest; ++q) {
      c[j + q] = t[4][q];
      h[j + q] = t[5][q];
    }
  }
}

// The whole network for a group of samples.
template <class V>
AF_MODELS_INLINE void forward_impl(const KernelArgs& a) {
  const int hid = a.hidden, m = a.gates, steps = a.steps, n = a.n, nd = a.dirs;
  const int feat = hid * nd;
  const float* prev = nullptr;  // the previous layer's outputs, [n][steps][feat]
  float* cur = a.seq_a;
  for (int l = 0; l < a.layers; ++l) {
    const bool last_layer = l == a.layers - 1;
    const int k_in = l == 0 ? a.input_size : feat;
    for (int d = 0; d < nd; ++d) {
      const int idx = l * nd + d;
      // The reverse direction of the last layer contributes only its output at the
      // last position, which is its first step (from a zero state).
      const int dir_steps = (last_layer && d == 1) ? 1 : steps;
      int cols = 0;
      for (int s = 0; s < n; ++s) {
        for (int st = 0; st < dir_steps; ++st) {
          const int t = d == 0 ? st : steps - 1 - st;
          a.xs[cols] = l == 0 ? a.inputs[s] + static_cast<size_t>(t) * a.input_size
                              : prev + (static_cast<size_t>(s) * steps + t) * feat;
          float* y = a.gin + (static_cast<size_t>(s) * steps + t) * m;
          std::memcpy(y, a.bias[idx], sizeof(float) * m);
          a.ys[cols] = y;
          ++cols;
        }
      }
      matvec_many<V>(Packed{a.w_ih[idx], a.panel}, m, k_in, cols, a.xs, a.ys);
      std::fill(a.h, a.h + static_cast<size_t>(n) * hid, 0.0f);
      std::fill(a.c, a.c + static_cast<size_t>(n) * hid, 0.0f);
      for (int st = 0; st < dir_steps; ++st) {
        const int t = d == 0 ? st : steps - 1 - st;
        for (int s = 0; s < n; ++s) {
          a.xs[s] = a.h + static_cast<size_t>(s) * hid;
          a.ys[s] = a.gin + (static_cast<size_t>(s) * steps + t) * m;
        }
        if (st > 0) matvec_many<V>(Packed{a.w_hh[idx], a.panel}, m, hid, n, a.xs, a.ys, st & 1);
        for (int s = 0; s < n; ++s) {
          float* hs = a.h + static_cast<size_t>(s) * hid;
          cell<V>(a.ys[s], a.c + static_cast<size_t>(s) * hid, hs, hid);
          if (!last_layer) std::memcpy(cur + (static_cast<size_t>(s) * steps + t) * feat + d * hid, hs, sizeof(float) * hid);
        }
      }
      if (last_layer)
        for (int s = 0; s < n; ++s)
          std::memcpy(a.last + static_cast<size_t>(s) * feat + d * hid, a.h + static_cast<size_t>(s) * hid,
                      sizeof(float) * hid);
    }
    if (!last_layer) {
      prev = cur;
      cur = cur == a.seq_a ? a.seq_b : a.seq_a;
    }
  }
  for (int s = 0; s < n; ++s) {
    float y = a.head_b;
    const float* f = a.last + static_cast<size_t>(s) * feat;
    for (int k = 0; k < feat; ++k) y = y + a.head_w[k] * f[k];
    a.out[s] = y;
  }
}

// The same kernel compiled for AVX-512, AVX2+FMA and the x86-64 baseline. All
// three do the same arithmetic per element except that the baseline has no fused
// multiply-add (so its results differ in the last bits from the other two).
#if defined(__x86_64__)
__attribute__((target("arch=x86-64-v4"))) void forward_avx512(const KernelArgs& a) { forward_impl<Vf16>(a); }
__attribute__((target("arch=x86-64-v3"))) void forward_avx2(const KernelArgs& a) { forward_impl<Vf8>(a); }
#endif
void forward_baseline(const KernelArgs& a) { forward_impl<Vf4>(a); }

}  // namespace

const char* LstmNet::select_kernel(const char* request) {
  const std::string want = request ? request : "";
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool v4 = __builtin_cpu_supports("x86-64-v4");
  const bool v3 = __builtin_cpu_supports("x86-64-v3");
  if ((want.empty() || want == "avx512") && v4) {
    kernel_ = forward_avx512;
    return "avx512";
  }
  if ((want.empty() || want == "avx512" || want == "avx2") && v3) {
    kernel_ = forward_avx2;
    return "avx2";
  }
#endif
  kernel_ = forward_baseline;
  return "baseline";
}

LstmNet::LstmNet(const LstmShape& shape, const std::vector<LstmDirectionTensors>& dirs,
                 const std::vector<float>& head_weight, float head_bias, int max_steps, int max_group)
    : shape_(shape), max_steps_(max_steps), max_group_(max_group), head_bias_(head_bias) {
  assert(max_group >= 1 && max_group <= kMaxGroup);
  const int hid = shape.hidden_size;
  const int nd = shape.directions();
  assert(static_cast<int>(dirs.size()) == shape.num_layers * nd);
  assert(static_cast<int>(head_weight.size()) == hid * nd);
  gates_ = (4 * hid + kGatePad - 1) / kGatePad * kGatePad;
  panel_ = gates_ % kPanel == 0 ? kPanel : kGatePad;
  // Column j of row k of a [rows][gates_] matrix in panel order (see Packed).
  const auto packed = [&](int rows, int k, int j) {
    return static_cast<size_t>(j / panel_) * rows * panel_ + static_cast<size_t>(k) * panel_ + j % panel_;
  };
  for (int l = 0; l < shape.num_layers; ++l) {
    for (int d = 0; d < nd; ++d) {
      const auto& src = dirs[static_cast<size_t>(l * nd + d)];
      const int k_in = shape.layer_input(l);
      assert(static_cast<int>(src.weight_ih.size()) == 4 * hid * k_in);
      assert(static_cast<int>(src.weight_hh.size()) == 4 * hid * hid);
      Direction dir;
      dir.w_ih_t.assign(static_cast<size_t>(k_in) * gates_, 0.0f);
      dir.w_hh_t.assign(static_cast<size_t>(hid) * gates_, 0.0f);
      dir.bias.setZero(gates_);
      for (int j = 0; j < 4 * hid; ++j) {
        for (int k = 0; k < k_in; ++k) dir.w_ih_t[packed(k_in, k, j)] = src.weight_ih[static_cast<size_t>(j) * k_in + k];
        for (int k = 0; k < hid; ++k) dir.w_hh_t[packed(hid, k, j)] = src.weight_hh[static_cast<size_t>(j) * hid + k];
        dir.bias(j) = src.bias_ih[j] + src.bias_hh[j];
      }
      dirs_.push_back(std::move(dir));
    }
  }
  head_weight_ = Eigen::Map<const Eigen::VectorXf>(head_weight.data(), static_cast<Eigen::Index>(head_weight.size()));
  const size_t group_steps = static_cast<size_t>(max_group) * max_steps;
  seq_a_.assign(group_steps * hid * nd, 0.0f);
  seq_b_.assign(group_steps * hid * nd, 0.0f);
  gin_.assign(group_steps * gates_, 0.0f);
  h_.assign(static_cast<size_t>(max_group) * hid, 0.0f);
  c_.assign(static_cast<size_t>(max_group) * hid, 0.0f);
  last_.assign(static_cast<size_t>(max_group) * hid * nd, 0.0f);
  xs_.assign(group_steps, nullptr);
  ys_.assign(group_steps, nullptr);
  kernel_name_ = select_kernel(std::getenv("AF_MODELS_KERNEL"));
}

void LstmNet::forward(const float* const* inputs, int n, int steps, float* out) {
  assert(n >= 1 && n <= max_group_ && steps >= 1 && steps <= max_steps_);
  const float* w_ih[64];
  const float* w_hh[64];
  const float* bias[64];
  assert(dirs_.size() <= 64);
  for (size_t i = 0; i < dirs_.size(); ++i) {
    w_ih[i] = dirs_[i].w_ih_t.data();
    w_hh[i] = dirs_[i].w_hh_t.data();
    bias[i] = dirs_[i].bias.data();
  }
  KernelArgs a{shape_.input_size, shape_.hidden_size, shape_.num_layers, shape_.directions(), gates_, panel_, steps, n,
               inputs, w_ih, w_hh, bias, head_weight_.data(), head_bias_, seq_a_.data(), seq_b_.data(), gin_.data(),
               h_.data(), c_.data(), last_.data(), xs_.data(), ys_.data(), out};
  kernel_(a);
}

}  // namespace af::models
