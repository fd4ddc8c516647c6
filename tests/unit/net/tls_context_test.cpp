// The one TLS client policy (issue 12 item 17): TLS 1.2 as a floor, peers
// verified, and a CA file that cannot be loaded is an error naming it.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "net/tls_context.hpp"

namespace af::net {
namespace {

TEST(TlsContext, RequiresTls12AndVerifiesPeers) {
  ::unsetenv("SSL_CERT_FILE");
  auto ctx = make_tls_client_context("");
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*ctx)->native_handle()), TLS1_2_VERSION);
  EXPECT_NE(SSL_CTX_get_verify_mode((*ctx)->native_handle()) & SSL_VERIFY_PEER, 0);
}

TEST(TlsContext, CaFileThatDoesNotLoadIsAnError) {
  auto missing = make_tls_client_context("/nonexistent/ca.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message.rfind("TLS: cannot load CA file '/nonexistent/ca.pem': ", 0), 0u)
      << missing.error().message;

  const std::string junk = ::testing::TempDir() + "tls_context_test_junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  auto bad = make_tls_client_context(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("TLS: cannot load CA file '" + junk + "': ", 0), 0u) << bad.error().message;

  // $SSL_CERT_FILE is the same option when no file is given.
  ::setenv("SSL_CERT_FILE", junk.c_str(), 1);
  auto env = make_tls_client_context("");
  ::unsetenv("SSL_CERT_FILE");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().message.rfind("TLS: cannot load CA file '" + junk + "': ", 0), 0u) << env.error().message;
}

TEST(TlsContext, HostNamesAndAddressesAreAccepted) {
  auto ctx = make_tls_client_context("");
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SSL* ssl = SSL_new((*ctx)->native_handle());
  ASSERT_NE(ssl, nullptr);
  EXPECT_TRUE(prepare_tls_connection(ssl, "fapi.binance.com").ok());
  EXPECT_TRUE(prepare_tls_connection(ssl, "127.0.0.1").ok());
  EXPECT_TRUE(prepare_tls_connection(ssl, "::1").ok());
  SSL_free(ssl);
}

}  // namespace
}  // namespace af::net
