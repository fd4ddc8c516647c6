// The ClickHouse client of both ClickHouse plugins (clickhouse/clickhouse_client.hpp):
// the answer classification on its own, then statements against the real server
// from scripts/test_servers.sh (skipped when AF_CLICKHOUSE_URL is unset).

#include <gtest/gtest.h>

#include <random>

#include "clickhouse/clickhouse_client.hpp"
#include "clickhouse_test_support.hpp"

namespace af::clickhouse {
namespace {

TEST(ClickHouseErrors, CodeIsReadWithARangeCheck) {
  EXPECT_EQ(clickhouse_error_code("Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist."), 60);
  EXPECT_EQ(clickhouse_error_code("Code: 516. DB::Exception: default: Authentication failed"), 516);
  EXPECT_EQ(clickhouse_error_code("Code: 99999999999999999999, e.displayText() = x"), -1);
  EXPECT_EQ(clickhouse_error_code("Code: x"), -1);
  EXPECT_EQ(clickhouse_error_code("Code: "), -1);
  EXPECT_EQ(clickhouse_error_code("upstream down"), -1);
}

TEST(ClickHouseErrors, FatalCodesAreTheOnesARetryCannotFix) {
  for (int code : {16, 26, 27, 47, 60, 62, 81, 117, 192, 193, 497, 516}) EXPECT_TRUE(clickhouse_fatal_code(code)) << code;
  for (int code : {-1, 0, 159 /* TIMEOUT_EXCEEDED */, 202 /* TOO_MANY_SIMULTANEOUS_QUERIES */, 241 /* MEMORY_LIMIT */})
    EXPECT_FALSE(clickhouse_fatal_code(code)) << code;
}

TEST(ClickHouseErrors, FirstLineAndQuoting) {
  EXPECT_EQ(first_line("one\ntwo"), "one");
  EXPECT_EQ(first_line(std::string(400, 'a')), std::string(300, 'a') + "...");
  EXPECT_EQ(clickhouse_quote_ident("we`ird\\"), "`we\\`ird\\\\`");
  EXPECT_EQ(clickhouse_quote_string("it's\\"), "'it\\'s\\\\'");
}

TEST(ClickHouseClientNetwork, RefusedConnectionIsTransientAndLeavesTheStatementOut) {
  auto url = net::parse_http_url("http://127.0.0.1:" + std::to_string(af::testing::free_port()));
  ASSERT_TRUE(url.ok());
  ClickHouseClient client(*url, {});
  auto r = client.query("SELECT 'a long statement'");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().transient);
  EXPECT_EQ(r.error().message, "connect: Connection refused");
}

class ClickHouseClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = af::testing::env("AF_CLICKHOUSE_URL");
    if (url_.empty())
      GTEST_SKIP() << "AF_CLICKHOUSE_URL is not set: start the server with scripts/test_servers.sh start DIR, then "
                      "eval \"$(scripts/test_servers.sh env DIR)\"";
    table_ = "af_client_test_" + std::to_string(std::random_device{}());
  }
  void TearDown() override {
    if (!url_.empty()) (void)client().execute("DROP TABLE IF EXISTS default." + table_);
  }
  ClickHouseClient client() { return ClickHouseClient(net::parse_http_url(url_).value(), {}); }
  std::string url_, table_;
};

TEST_F(ClickHouseClientTest, StatementsInsertsAndQueriesOnOneClient) {
  ClickHouseClient c = client();
  ASSERT_TRUE(c.execute("CREATE TABLE default." + table_ + " (x UInt32) ENGINE = Memory").ok());
  auto inserted = c.execute("INSERT INTO default." + table_ + " FORMAT TabSeparated", "1\n2\n3\n");
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  auto sum = c.query("SELECT sum(x) FROM default." + table_);
  ASSERT_TRUE(sum.ok()) << sum.error().message;
  EXPECT_EQ(*sum, "6\n");
}

TEST_F(ClickHouseClientTest, UnknownTableIsFatalWithTheServersFirstLine) {
  ClickHouseClient c = client();
  auto r = c.query("SELECT * FROM default." + table_ + "_missing");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().transient);
  EXPECT_EQ(r.error().message.rfind("HTTP 404: Code: 60", 0), 0u) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST_F(ClickHouseClientTest, QueryIsReadOnly) {
  ClickHouseClient c = client();
  auto r = c.query("CREATE TABLE default." + table_ + " (x UInt32) ENGINE = Memory");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("readonly"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace af::clickhouse
