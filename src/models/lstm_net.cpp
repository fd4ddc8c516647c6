#include "models/lstm_net.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

namespace af::models {

namespace {

#define AF_MODELS_INLINE inline __attribute__((always_inline))

// Eight floats; the reduced alignment lets the kernel load from any float address.
typedef float Vf8 __attribute__((vector_size(32), aligned(4)));
constexpr int kLanes = 8;
constexpr int kGatePad = 64;  // gates_ is a multiple of this (the widest tile)

// Vector loads and stores as macros: a function returning Vf8 would change the ABI
// between the AVX and baseline builds of the kernel (-Wpsabi).
#define AF_LOAD8(p) (*reinterpret_cast<const Vf8*>(p))
#define AF_STORE8(p, v) (*reinterpret_cast<Vf8*>(p) = (v))

// y[s][j0 .. j0 + NV*8) += sum_k wt[k][j] * x[s][k] for S samples: NV*S
// accumulators live in registers while the weight rows stream past, each
// weight vector loaded once for all S samples. The per-element arithmetic is a
// chain over k in order, whatever S and NV are (see lstm_net.hpp).
template <int S, int NV>
AF_MODELS_INLINE void tile(const float* wt, int m, int k_count, const float* const* x, float* const* y, int j0) {
  Vf8 acc[S][NV];
  for (int s = 0; s < S; ++s)
    for (int v = 0; v < NV; ++v) acc[s][v] = AF_LOAD8(y[s] + j0 + v * kLanes);
  for (int k = 0; k < k_count; ++k) {
    const float* wk = wt + static_cast<size_t>(k) * m + j0;
    Vf8 w[NV];
    for (int v = 0; v < NV; ++v) w[v] = AF_LOAD8(wk + v * kLanes);
    for (int s = 0; s < S; ++s) {
      const float xs = x[s][k];
      for (int v = 0; v < NV; ++v) acc[s][v] = acc[s][v] + w[v] * xs;
    }
  }
  for (int s = 0; s < S; ++s)
    for (int v = 0; v < NV; ++v) AF_STORE8(y[s] + j0 + v * kLanes, acc[s][v]);
}

template <int S, int NV>
AF_MODELS_INLINE void tiles(const float* wt, int m, int k_count, const float* const* x, float* const* y) {
  for (int j0 = 0; j0 < m; j0 += NV * kLanes) tile<S, NV>(wt, m, k_count, x, y, j0);
}

// y[i] += W x[i] for n vectors (W given transposed, [k_count][m]).
AF_MODELS_INLINE void matvec_many(const float* wt, int m, int k_count, int n, const float* const* x, float* const* y) {
  int i = 0;
  for (; i + 4 <= n; i += 4) tiles<4, 2>(wt, m, k_count, x + i, y + i);
  for (; i < n; ++i) tiles<1, 8>(wt, m, k_count, x + i, y + i);
}

// exp(x) for x in [-87, 88] (clamped outside) to a few float ulps: x = n ln2 + r,
// a degree-7 polynomial for e^r on |r| <= ln2/2, 2^n from the exponent bits.
// Branch-free so that the cell loop vectorises.
AF_MODELS_INLINE float exp_approx(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + kMagic) - kMagic;
  float r = x - n * 0.693359375f;  // ln2 split in two for an exact first product
  r = r - n * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(bits);
}

AF_MODELS_INLINE float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }
AF_MODELS_INLINE float tanh_approx(float x) { return 1.0f - 2.0f / (1.0f + exp_approx(2.0f * x)); }

// One LSTM cell step from the pre-activations g = [i f g o] (PyTorch's order).
AF_MODELS_INLINE void cell(const float* g, float* c, float* h, int hidden) {
  for (int j = 0; j < hidden; ++j) {
    const float ig = sigmoid(g[j]);
    const float fg = sigmoid(g[hidden + j]);
    const float gg = tanh_approx(g[2 * hidden + j]);
    const float og = sigmoid(g[3 * hidden + j]);
    const float cn = fg * c[j] + ig * gg;
    c[j] = cn;
    h[j] = og * tanh_approx(cn);
  }
}

struct KernelArgs {
  int input_size, hidden, layers, dirs, gates, steps, n;
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

// The whole network for a group of samples. Compiled for AVX2+FMA and for the
// baseline; the loader picks one per process, so all calls in a process use the
// same code (and bit-identity between batch sizes holds within either).
__attribute__((target_clones("arch=x86-64-v3", "default"))) void forward_kernel(const KernelArgs& a) {
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
      matvec_many(a.w_ih[idx], m, k_in, cols, a.xs, a.ys);
      std::fill(a.h, a.h + static_cast<size_t>(n) * hid, 0.0f);
      std::fill(a.c, a.c + static_cast<size_t>(n) * hid, 0.0f);
      for (int st = 0; st < dir_steps; ++st) {
        const int t = d == 0 ? st : steps - 1 - st;
        for (int s = 0; s < n; ++s) {
          a.xs[s] = a.h + static_cast<size_t>(s) * hid;
          a.ys[s] = a.gin + (static_cast<size_t>(s) * steps + t) * m;
        }
        if (st > 0) matvec_many(a.w_hh[idx], m, hid, n, a.xs, a.ys);
        for (int s = 0; s < n; ++s) {
          float* hs = a.h + static_cast<size_t>(s) * hid;
          cell(a.ys[s], a.c + static_cast<size_t>(s) * hid, hs, hid);
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

}  // namespace

LstmNet::LstmNet(const LstmShape& shape, const std::vector<LstmDirectionTensors>& dirs,
                 const std::vector<float>& head_weight, float head_bias, int max_steps)
    : shape_(shape), max_steps_(max_steps), head_bias_(head_bias) {
  const int hid = shape.hidden_size;
  const int nd = shape.directions();
  assert(static_cast<int>(dirs.size()) == shape.num_layers * nd);
  assert(static_cast<int>(head_weight.size()) == hid * nd);
  gates_ = (4 * hid + kGatePad - 1) / kGatePad * kGatePad;
  for (int l = 0; l < shape.num_layers; ++l) {
    for (int d = 0; d < nd; ++d) {
      const auto& src = dirs[static_cast<size_t>(l * nd + d)];
      const int k_in = shape.layer_input(l);
      assert(static_cast<int>(src.weight_ih.size()) == 4 * hid * k_in);
      assert(static_cast<int>(src.weight_hh.size()) == 4 * hid * hid);
      Direction dir;
      dir.w_ih_t.setZero(k_in, gates_);
      dir.w_hh_t.setZero(hid, gates_);
      dir.bias.setZero(gates_);
      for (int j = 0; j < 4 * hid; ++j) {
        for (int k = 0; k < k_in; ++k) dir.w_ih_t(k, j) = src.weight_ih[static_cast<size_t>(j) * k_in + k];
        for (int k = 0; k < hid; ++k) dir.w_hh_t(k, j) = src.weight_hh[static_cast<size_t>(j) * hid + k];
        dir.bias(j) = src.bias_ih[j] + src.bias_hh[j];
      }
      dirs_.push_back(std::move(dir));
    }
  }
  head_weight_ = Eigen::Map<const Eigen::VectorXf>(head_weight.data(), static_cast<Eigen::Index>(head_weight.size()));
  const size_t group_steps = static_cast<size_t>(kMaxGroup) * max_steps;
  seq_a_.assign(group_steps * hid * nd, 0.0f);
  seq_b_.assign(group_steps * hid * nd, 0.0f);
  gin_.assign(group_steps * gates_, 0.0f);
  h_.assign(static_cast<size_t>(kMaxGroup) * hid, 0.0f);
  c_.assign(static_cast<size_t>(kMaxGroup) * hid, 0.0f);
  last_.assign(static_cast<size_t>(kMaxGroup) * hid * nd, 0.0f);
  xs_.assign(group_steps, nullptr);
  ys_.assign(group_steps, nullptr);
}

void LstmNet::forward(const float* const* inputs, int n, int steps, float* out) {
  assert(n >= 1 && n <= kMaxGroup && steps >= 1 && steps <= max_steps_);
  const float* w_ih[64];
  const float* w_hh[64];
  const float* bias[64];
  assert(dirs_.size() <= 64);
  for (size_t i = 0; i < dirs_.size(); ++i) {
    w_ih[i] = dirs_[i].w_ih_t.data();
    w_hh[i] = dirs_[i].w_hh_t.data();
    bias[i] = dirs_[i].bias.data();
  }
  KernelArgs a{shape_.input_size, shape_.hidden_size, shape_.num_layers, shape_.directions(), gates_, steps, n,
               inputs, w_ih, w_hh, bias, head_weight_.data(), head_bias_, seq_a_.data(), seq_b_.data(), gin_.data(),
               h_.data(), c_.data(), last_.data(), xs_.data(), ys_.data(), out};
  forward_kernel(a);
}

}  // namespace af::models
