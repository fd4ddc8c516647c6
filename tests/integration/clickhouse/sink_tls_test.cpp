// The sinks' TLS (issue 12 item 17): the database sinks follow the one TLS policy
// of every outgoing connection (net/tls_context.hpp). Against a real TLS server
// on loopback (`openssl s_server -www`): an untrusted CA and a certificate for
// another host name are both refused at open() with an error naming the sink;
// the CA given as `--ca-file` (SinkContext::ca_file) or $SSL_CERT_FILE is
// trusted; a CA file that cannot be loaded is an error, not ignored.

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "clickhouse_test_support.hpp"
#include "runtime/sink.hpp"
#include "sim/test_certs.hpp"
#include "clickhouse/register_builtins.hpp"
#include "sinks/register_builtins.hpp"
#include "support/process.hpp"

namespace af::sinks {
namespace {

using namespace std::chrono_literals;

// Sets (or unsets) an environment variable for one test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// `openssl s_server -www` on 127.0.0.1 with the given certificate and key.
class TlsServer {
 public:
  bool start(const std::string& cert, const std::string& key, const std::string& log) {
    port_ = af::testing::free_port();
    if (!process_.start({"openssl", "s_server", "-quiet", "-www", "-accept", "127.0.0.1:" + std::to_string(port_),
                         "-cert", cert, "-key", key},
                        log))
      return false;
    return af::testing::wait_until([&] { return accepts(); }, 10s);
  }
  int port() const { return port_; }

 private:
  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }
  af::testing::ChildProcess process_;
  int port_ = 0;
};

class SinkTls : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = af::sim::generate_test_certs(dir_ / "ca");
    ASSERT_TRUE(files.ok()) << files.error().message;
    certs_ = *files;
    register_builtins(registry_);
    DataSourceRegistry data;
    clickhouse::register_builtins(data, registry_);
  }

  // Opens sinks.clickhouse against `url` the way build_signal_emitter does.
  Status open_clickhouse(const std::string& url, const std::string& ca_file) {
    registry::Params p;
    p.set("url", url);
    p.set("table_name", std::string("predictions"));
    auto sink = registry_.find("sinks.clickhouse")->factory(SinkContext{.params = p, .name = "sinks.clickhouse[0]", .dag_name = "dag_tls", .ca_file = ca_file});
    if (!sink) return sink.error();
    return (*sink)->open();
  }

  af::testing::TempDir dir_;
  af::sim::TestCertFiles certs_;
  SinkRegistry registry_;
};

TEST_F(SinkTls, UntrustedCaIsRefusedNamingTheSink) {
  TlsServer server;
  ASSERT_TRUE(server.start(certs_.server_cert, certs_.server_key, dir_ / "s_server.log"));
  ScopedEnv no_env_ca("SSL_CERT_FILE", nullptr);
  // The system CAs do not know the throwaway test CA.
  Status st = open_clickhouse("https://localhost:" + std::to_string(server.port()), "");
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().transient) << "a certificate that does not verify will not verify on retry";
  const std::string& m = st.error().message;
  EXPECT_EQ(m.rfind("sinks.clickhouse[0] (https://localhost:", 0), 0u) << m;
  EXPECT_NE(m.find("TLS handshake failed: certificate verify failed"), std::string::npos) << m;
  EXPECT_NE(m.find("(unable to get local issuer certificate)"), std::string::npos) << m;
}

TEST_F(SinkTls, WrongHostNameIsRefusedNamingTheSink) {
  // A certificate for another name, from a CA the sink does trust: only the name is wrong.
  const std::string cert = dir_ / "other.pem", key = dir_ / "other.key";
  const auto made = af::testing::run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other.example "
      "-addext subjectAltName=DNS:other.example -keyout '" + key + "' -out '" + cert + "'");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  TlsServer server;
  ASSERT_TRUE(server.start(cert, key, dir_ / "s_server.log"));
  Status st = open_clickhouse("https://localhost:" + std::to_string(server.port()), cert);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().transient);
  const std::string& m = st.error().message;
  EXPECT_EQ(m.rfind("sinks.clickhouse[0] (https://localhost:", 0), 0u) << m;
  EXPECT_NE(m.find("TLS handshake failed: certificate verify failed (hostname mismatch)"), std::string::npos) << m;
  // The same for an address the certificate does not list.
  st = open_clickhouse("https://127.0.0.1:" + std::to_string(server.port()), cert);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("certificate verify failed (IP address mismatch)"), std::string::npos)
      << st.error().message;
}

// Past a verified handshake, s_server -www never answers the sink's POST: the
// request times out, which the sink treats as a database that is down at
// start-up (transient, open() succeeds and the worker retries). A certificate
// that does not verify is a fatal open() error instead, so open() succeeding
// proves the handshake verified with the CA the sink was given.

TEST_F(SinkTls, CaFileOfTheCommandReachesTheSink) {
  TlsServer server;
  ASSERT_TRUE(server.start(certs_.server_cert, certs_.server_key, dir_ / "s_server.log"));
  ScopedEnv no_env_ca("SSL_CERT_FILE", nullptr);
  Status st = open_clickhouse("https://localhost:" + std::to_string(server.port()), certs_.ca_cert);
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST_F(SinkTls, SslCertFileReachesTheSink) {
  TlsServer server;
  ASSERT_TRUE(server.start(certs_.server_cert, certs_.server_key, dir_ / "s_server.log"));
  ScopedEnv env_ca("SSL_CERT_FILE", certs_.ca_cert.c_str());
  Status st = open_clickhouse("https://127.0.0.1:" + std::to_string(server.port()), "");
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST_F(SinkTls, CaFileThatDoesNotLoadIsAnError) {
  const std::string missing = dir_ / "no-such-ca.pem";
  Status st = open_clickhouse("https://localhost:1", missing);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().transient);
  EXPECT_EQ(st.error().message.rfind("sinks.clickhouse[0] (https://localhost:1, table `default`.`predictions`): "
                                     "TLS: cannot load CA file '" + missing + "': ",
                                     0),
            0u)
      << st.error().message;

  // The same for the DynamoDB sink, and for a file that exists but holds no certificate.
  const std::string empty = dir_ / "empty.pem";
  af::testing::write_file(empty, "not a certificate\n");
  ScopedEnv key_id("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  registry::Params p;
  p.set("table_name", std::string("predictions"));
  p.set("region", std::string("us-east-1"));
  p.set("endpoint_url", std::string("https://localhost:1"));
  auto sink = registry_.find("sinks.dynamodb")->factory(SinkContext{.params = p, .name = "sinks.dynamodb[1]", .dag_name = "dag_tls", .ca_file = empty});
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  st = (*sink)->open();
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().transient);
  EXPECT_EQ(st.error().message.rfind("sinks.dynamodb[1]", 0), 0u) << st.error().message;
  EXPECT_NE(st.error().message.find("TLS: cannot load CA file '" + empty + "'"), std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace af::sinks
