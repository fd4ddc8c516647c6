#pragma once
// LstmNet: a multi-layer, uni- or bidirectional LSTM (PyTorch's nn.LSTM with
// batch_first) followed by a linear head on the last time step's features,
// PyTorch's `fc(lstm(x)[0][:, -1, :])`, evaluated natively in float32.
//
// Bit-identity between batch sizes: every output element is computed by the same
// sequence of operations whatever the batch (bias, then the input weights in
// column order, then the recurrent weights in column order, one fused
// multiply-add each; the same element-wise cell function). Batching only changes
// how many samples share each load of a weight column, never the arithmetic.
// Hence predict() alone and predict_batch() over 200 symbols agree bit for bit.
//
// Owned by a model plugin; forward() uses the instance's scratch buffers, so one
// instance is used by one thread (the compute thread). No allocation per call.

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace af::models {

namespace detail {
struct KernelArgs;  // the kernel's view of one forward() call (lstm_net.cpp)
}  // namespace detail

// Architecture of an LstmNet.
struct LstmShape {
  int input_size = 0;
  int hidden_size = 0;
  int num_layers = 1;
  bool bidirectional = false;
  int directions() const { return bidirectional ? 2 : 1; }
  // Input width of layer `l`: input_size for the first, hidden * directions after.
  int layer_input(int l) const { return l == 0 ? input_size : hidden_size * directions(); }
};

// PyTorch tensors of one (layer, direction), row-major as in its state_dict.
struct LstmDirectionTensors {
  std::vector<float> weight_ih;  // [4H, layer_input]
  std::vector<float> weight_hh;  // [4H, H]
  std::vector<float> bias_ih;    // [4H] (zeros when the LSTM has no bias)
  std::vector<float> bias_hh;    // [4H]
};

class LstmNet {
 public:
  // Samples a single forward() call can take; predict_batch splits larger batches.
  static constexpr int kMaxGroup = 8;

  // `dirs[l * directions + d]`; head weight [1, H * directions], head bias [1].
  // `max_steps`: the longest sequence forward() will be given; `max_group`: the
  // most samples per call (1..kMaxGroup). Both size the scratch.
  LstmNet(const LstmShape& shape, const std::vector<LstmDirectionTensors>& dirs, const std::vector<float>& head_weight,
          float head_bias, int max_steps, int max_group = kMaxGroup);

  const LstmShape& shape() const { return shape_; }

  // The code path forward() runs: "avx512", "avx2" or "baseline", the widest the
  // CPU has, or narrower when the environment variable AF_MODELS_KERNEL asks for
  // it (for tests and benchmarks). The vector paths give identical results; the
  // baseline (no fused multiply-add) differs from them in the last bits.
  const char* kernel_name() const { return kernel_name_; }

  // Runs `n` (1..max_group) sequences of `steps` rows of shape().input_size
  // floats each (oldest row first, row-major); writes the head's output for each.
  void forward(const float* const* inputs, int n, int steps, float* out);

 private:
  // One (layer, direction), transposed, padded and packed for the kernel: column
  // k of the PyTorch matrix is row k here, with gates_ (>= 4H, a multiple of 64)
  // floats, stored in panels of panel_ columns ([gates_ / panel_][rows][panel_]).
  struct Direction {
    std::vector<float> w_ih_t;  // [in, gates_] in panels
    std::vector<float> w_hh_t;  // [H, gates_] in panels
    Eigen::VectorXf bias;                                                          // [gates_]: b_ih + b_hh
  };

  using Kernel = void (*)(const detail::KernelArgs&);
  const char* select_kernel(const char* request);

  LstmShape shape_;
  Kernel kernel_ = nullptr;
  const char* kernel_name_ = "";
  int gates_ = 0;  // padded 4H
  int panel_ = 0;  // columns per weight panel: 128, or 64 when gates_ is not a multiple of 128
  int max_steps_ = 0;
  int max_group_ = 0;
  std::vector<Direction> dirs_;
  Eigen::VectorXf head_weight_;
  float head_bias_ = 0;

  // Scratch, sized once.
  std::vector<float> seq_a_, seq_b_;  // [group][steps][H * directions]: a layer's outputs
  std::vector<float> gin_;            // [group][steps][gates_]: pre-activations
  std::vector<float> h_, c_;          // [group][H]
  std::vector<float> last_;           // [group][H * directions]: features of the last step
  std::vector<const float*> xs_;      // pointer lists for the kernel
  std::vector<float*> ys_;
};

}  // namespace af::models
