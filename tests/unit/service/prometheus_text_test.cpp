#include "service/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace af::service {
namespace {

TEST(PrometheusText, GroupsFamiliesEscapesAndWritesHistograms) {
  LatencyHistogram h({1, 2.5});
  h.record(0.5);
  h.record(2);
  h.record(7);

  PrometheusText t;
  t.counter("af_events_total", "Events received.", 3, {{"symbol", "BTCUSDT"}});
  t.gauge("af_queue_depth", "Queue depth.", 2, {{"sink", "a\"b\\c\nd"}});
  t.counter("af_events_total", "Events received.", 1000000, {{"symbol", "ETHUSDT"}});
  t.histogram("af_latency_seconds", "Bar close to emit.", h.snapshot(), {{"stage", "emit"}});
  t.gauge("af_rss_bytes", "Resident set size, with a \\ and a\nnewline \"quoted\".", 1.5);

  const std::string expected =
      "# HELP af_events_total Events received.\n"
      "# TYPE af_events_total counter\n"
      "af_events_total{symbol=\"BTCUSDT\"} 3\n"
      "af_events_total{symbol=\"ETHUSDT\"} 1000000\n"
      "# HELP af_queue_depth Queue depth.\n"
      "# TYPE af_queue_depth gauge\n"
      "af_queue_depth{sink=\"a\\\"b\\\\c\\nd\"} 2\n"
      "# HELP af_latency_seconds Bar close to emit.\n"
      "# TYPE af_latency_seconds histogram\n"
      "af_latency_seconds_bucket{stage=\"emit\",le=\"1\"} 1\n"
      "af_latency_seconds_bucket{stage=\"emit\",le=\"2.5\"} 2\n"
      "af_latency_seconds_bucket{stage=\"emit\",le=\"+Inf\"} 3\n"
      "af_latency_seconds_sum{stage=\"emit\"} 9.5\n"
      "af_latency_seconds_count{stage=\"emit\"} 3\n"
      "# HELP af_rss_bytes Resident set size, with a \\\\ and a\\nnewline \"quoted\".\n"
      "# TYPE af_rss_bytes gauge\n"
      "af_rss_bytes 1.5\n";
  EXPECT_EQ(t.str(), expected);
}

TEST(PrometheusText, HistogramWithoutLabelsAndEmpty) {
  LatencyHistogram h({10});
  PrometheusText t;
  t.histogram("lat_seconds", "Latency.", h.snapshot());
  EXPECT_EQ(t.str(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"10\"} 0\n"
            "lat_seconds_bucket{le=\"+Inf\"} 0\n"
            "lat_seconds_sum 0\n"
            "lat_seconds_count 0\n");
}

TEST(PrometheusText, EmptyBuilderIsEmpty) { EXPECT_EQ(PrometheusText().str(), ""); }

TEST(PrometheusText, NumberSpelling) {
  EXPECT_EQ(PrometheusText::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusText::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(PrometheusText::format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(PrometheusText::format_value(0), "0");
  EXPECT_EQ(PrometheusText::format_value(-3), "-3");
  EXPECT_EQ(PrometheusText::format_value(1e6), "1000000");
  EXPECT_EQ(PrometheusText::format_value(123456789012.0), "123456789012");
  EXPECT_EQ(PrometheusText::format_value(0.1), "0.1");
  EXPECT_EQ(PrometheusText::format_value(2.5), "2.5");
  EXPECT_EQ(PrometheusText::format_value(1e-7), "1e-07");
  EXPECT_EQ(PrometheusText::format_value(1e20), "1e+20");  // past 2^53: shortest form
  // Shortest round trip: reads back to the same double.
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 6.02214076e23, -2.2250738585072014e-308}) {
    EXPECT_EQ(std::strtod(PrometheusText::format_value(v).c_str(), nullptr), v);
  }
}

TEST(PrometheusText, LabelValueEscaping) {
  EXPECT_EQ(PrometheusText::escape_label_value("plain"), "plain");
  EXPECT_EQ(PrometheusText::escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(PrometheusText::escape_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(PrometheusText::escape_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(PrometheusText::escape_label_value("tab\tand ünïcode"), "tab\tand ünïcode");
}

TEST(PrometheusText, SeveralLabels) {
  PrometheusText t;
  t.gauge("q", "h", 4, {{"sink", "csv"}, {"kind", "spool"}});
  EXPECT_EQ(t.str(), "# HELP q h\n# TYPE q gauge\nq{sink=\"csv\",kind=\"spool\"} 4\n");
}

}  // namespace
}  // namespace af::service
