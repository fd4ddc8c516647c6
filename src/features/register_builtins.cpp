#include "features/register_builtins.hpp"

#include "features/builtins.hpp"

namespace af::features {

void register_builtins(FeatureRegistry& registry) {
  // Seed features (the bilstm example's).
  registry.add(momentum_descriptor(), make_momentum);
  registry.add(rsi_descriptor(), make_rsi);
  registry.add(ma_rocp_descriptor(), make_ma_rocp);
  registry.add(levels_descriptor(), make_levels);
  // TA-Lib families.
  registry.add(sma_descriptor(), make_sma);
  registry.add(ema_descriptor(), make_ema);
  registry.add(wma_descriptor(), make_wma);
  registry.add(dema_descriptor(), make_dema);
  registry.add(tema_descriptor(), make_tema);
  registry.add(macd_descriptor(), make_macd);
  registry.add(bollinger_descriptor(), make_bollinger);
  registry.add(atr_descriptor(), make_atr);
  registry.add(natr_descriptor(), make_natr);
  registry.add(stochastic_descriptor(), make_stochastic);
  registry.add(williams_r_descriptor(), make_williams_r);
  registry.add(cci_descriptor(), make_cci);
  registry.add(adx_descriptor(), make_adx);
  registry.add(obv_descriptor(), make_obv);
  registry.add(mfi_descriptor(), make_mfi);
  registry.add(roc_descriptor(), make_roc);
  // Returns, risk and volume.
  registry.add(returns_descriptor(), make_returns);
  registry.add(log_returns_descriptor(), make_log_returns);
  registry.add(volatility_descriptor(), make_volatility);
  registry.add(zscore_descriptor(), make_zscore);
  registry.add(vwap_descriptor(), make_vwap);
  registry.add(volume_ratio_descriptor(), make_volume_ratio);
}

}  // namespace af::features
