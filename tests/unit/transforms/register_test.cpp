#include "transforms/register_builtins.hpp"

#include <gtest/gtest.h>

#include "common/interval.hpp"

namespace af::transforms {
namespace {

registry::Params target(const char* t) {
  registry::Params p;
  p.set("target_freq", std::string(t));
  return p;
}

TEST(TransformsRegistry, ResampleDescriptor) {
  TransformRegistry reg;
  register_builtins(reg);
  const auto* e = reg.find("transforms.resample");
  ASSERT_NE(e, nullptr);
  const auto& d = e->descriptor;
  EXPECT_EQ(d.kind, registry::PluginKind::kTransform);
  EXPECT_EQ(d.input, registry::InputKind::kFrame);
  EXPECT_EQ(d.output, registry::OutputKind::kFrame);
  ASSERT_EQ(d.params.size(), 1u);
  EXPECT_EQ(d.params[0].name, "target_freq");
  EXPECT_EQ(d.params[0].type, registry::ParamType::kFrequency);
  EXPECT_TRUE(d.params[0].required);
  EXPECT_EQ(d.warmup_rows(target("2h")), 1);
  std::string err;
  EXPECT_EQ(d.frame_interval(target("2h"), 15 * kMinuteMs, err), std::optional<int64_t>(2 * kHourMs));
  EXPECT_EQ(d.frame_interval(target("1h"), kHourMs, err), std::optional<int64_t>(kHourMs));
  EXPECT_FALSE(d.frame_interval(target("5m"), 3 * kMinuteMs, err).has_value());
  EXPECT_EQ(err, "target_freq 5m is not a multiple of the input interval 3m");
  EXPECT_FALSE(d.frame_interval(target("15m"), kHourMs, err).has_value());
  EXPECT_EQ(err, "target_freq 15m is shorter than the input interval 1h");
  // Issue 16 item 3: any length dividing a day, in pandas' spellings too.
  EXPECT_EQ(d.frame_interval(target("45m"), 15 * kMinuteMs, err), std::optional<int64_t>(45 * kMinuteMs));
  EXPECT_EQ(d.frame_interval(target("2H"), 15 * kMinuteMs, err), std::optional<int64_t>(2 * kHourMs));
  EXPECT_EQ(d.frame_interval(target("120T"), 15 * kMinuteMs, err), std::optional<int64_t>(2 * kHourMs));
  EXPECT_FALSE(d.frame_interval(target("7h"), 15 * kMinuteMs, err).has_value());
  EXPECT_EQ(err, "target_freq '7h' is not a frequency that divides a day");

  const std::vector<std::string> syms{"A", "B"};
  auto ok = e->factory(TransformContext{target("2h"), 15 * kMinuteMs, 2 * kHourMs, syms});
  ASSERT_TRUE(ok.ok());
  auto bad = e->factory(TransformContext{target("5m"), 3 * kMinuteMs, 5 * kMinuteMs, syms});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "transforms.resample: target_freq 5m is not a multiple of the input interval 3m");
}

TEST(TransformsRegistry, AlignDescriptor) {
  TransformRegistry reg;
  register_builtins(reg);
  const auto* e = reg.find("transforms.align");
  ASSERT_NE(e, nullptr);
  const auto& d = e->descriptor;
  EXPECT_EQ(d.extra_frame_columns, std::vector<std::string>{"filled"});
  EXPECT_TRUE(d.params.empty());
  std::string err;
  registry::Params p;
  EXPECT_EQ(d.frame_interval(p, kHourMs, err), std::optional<int64_t>(kHourMs));
  const std::vector<std::string> syms{"A"};
  EXPECT_TRUE(e->factory(TransformContext{p, kHourMs, kHourMs, syms}).ok());
}

}  // namespace
}  // namespace af::transforms
