#include "binance/register_builtins.hpp"

#include <gtest/gtest.h>

#include "binance/live_market_feed.hpp"
#include "common/interval.hpp"
#include "common/time.hpp"
#include "support/temp_dir.hpp"
#include "synthetic/synthetic_market.hpp"

namespace af::binance {
namespace {

TEST(SourcesRegistry, DescriptorsAndFactory) {
  DataSourceRegistry reg;
  register_builtins(reg);
  for (const char* name : {"data.binance_futures", "data.binance_spot"}) {
    const auto* e = reg.find(name);
    ASSERT_NE(e, nullptr) << name;
    const auto& d = e->descriptor;
    EXPECT_EQ(d.kind, registry::PluginKind::kData);
    EXPECT_EQ(d.input, registry::InputKind::kNone);
    EXPECT_EQ(d.output, registry::OutputKind::kFrame);
    ASSERT_EQ(d.params.size(), 2u);
    EXPECT_EQ(d.params[0].name, "universe");
    EXPECT_EQ(d.params[0].type, registry::ParamType::kSymbolList);
    EXPECT_TRUE(d.params[0].required);
    EXPECT_EQ(d.params[1].name, "interval");
    EXPECT_EQ(d.params[1].type, registry::ParamType::kInterval);
    EXPECT_TRUE(d.params[1].required);
    EXPECT_FALSE(d.doc.empty());
    registry::Params p;
    p.set("universe", std::vector<std::string>{"AAAUSDT"});
    p.set("interval", std::string("15m"));
    std::string err;
    EXPECT_EQ(d.frame_interval(p, 0, err), std::optional<int64_t>(15 * kMinuteMs));
    EXPECT_EQ(d.warmup_rows(p), 1);

    auto live = e->factory(DataSourceContext{p, name, 15 * kMinuteMs, ""});
    ASSERT_FALSE(live.ok());
    EXPECT_EQ(live.error().message, std::string(name) + ": live streaming is not available in replay");
  }
}

// Live feeds are a plugin kind: each entry says how to build its feed, from the
// live service's settings (issue 13 item 2).
TEST(SourcesRegistry, EachEntryBuildsItsLiveFeed) {
  DataSourceRegistry reg;
  register_builtins(reg);
  registry::Params p;
  p.set("universe", std::vector<std::string>{"AAAUSDT", "BBBUSDT"});
  p.set("interval", std::string("1m"));
  for (const auto& [name, stale_default] :
       {std::pair<std::string, int64_t>{"data.binance_futures", 10'000}, {"data.binance_spot", 40'000}}) {
    const auto* e = reg.find(name);
    ASSERT_NE(e, nullptr) << name;
    ASSERT_TRUE(e->extra.live_feed) << name;
    DataSourceContext ctx{p, name, kMinuteMs, ""};
    ctx.universe = {"AAAUSDT", "BBBUSDT"};
    auto none = e->extra.live_feed(ctx);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().message, name + ": a live feed needs the live service's settings");
    LiveFeedSettings settings;
    ctx.live = &settings;
    auto feed = e->extra.live_feed(ctx);
    ASSERT_TRUE(feed.ok()) << feed.error().message;
    EXPECT_NE(dynamic_cast<LiveMarketFeed*>(feed->get()), nullptr) << name;
    EXPECT_EQ((*feed)->stale_after_ms(), stale_default) << name;
    settings.stale_after_ms = 1234;
    auto tuned = e->extra.live_feed(ctx);
    ASSERT_TRUE(tuned.ok());
    EXPECT_EQ((*tuned)->stale_after_ms(), 1234) << name;
  }
}

TEST(SourcesRegistry, FuturesFactoryReadsAMirror) {
  test::TempDir dir;
  const int64_t from = *parse_iso8601("2024-01-01"), to = *parse_iso8601("2024-01-03");
  ASSERT_TRUE(synthetic::write_synthetic_mirror(dir.str(), {"AAAUSDT"}, 15 * kMinuteMs, from, to, 1).ok());
  DataSourceRegistry reg;
  register_builtins(reg);
  registry::Params p;
  p.set("universe", std::vector<std::string>{"AAAUSDT"});
  p.set("interval", std::string("15m"));
  auto src = reg.find("data.binance_futures")->factory(DataSourceContext{p, "data.binance_futures", 15 * kMinuteMs, dir.str()});
  ASSERT_TRUE(src.ok()) << src.error().message;
  auto bars = (*src)->history("AAAUSDT", from, to);
  ASSERT_TRUE(bars.ok()) << bars.error().message;
  EXPECT_EQ(bars->size(), 192u);
  // The spot source of the same mirror finds nothing.
  auto spot = reg.find("data.binance_spot")->factory(DataSourceContext{p, "data.binance_spot", 15 * kMinuteMs, dir.str()});
  ASSERT_TRUE(spot.ok());
  EXPECT_FALSE((*spot)->history("AAAUSDT", from, to).ok());
}

}  // namespace
}  // namespace af::binance
