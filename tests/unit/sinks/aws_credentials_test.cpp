// The AWS credential chain of the DynamoDB sink against loopback servers that
// play STS, the container credentials endpoint and IMDSv2
// (tests/support/aws_credentials_server.hpp): each provider, the chain's order,
// each provider's failures, and the refresh of temporary credentials.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sinks/aws_credential_chain.hpp"
#include "sinks/dynamodb_credentials.hpp"
#include "support/aws_credentials_server.hpp"

namespace af::sinks {
namespace {

using af::test::AwsCredentialsServer;
using Fault = AwsCredentialsServer::Fault;

const char* const kVariables[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS", "AWS_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED", "HOME"};

// Every test starts from an environment without AWS configuration (HOME points
// at an empty directory) and with the metadata service disabled unless it asks.
class AwsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVariables) {
      if (const char* old = std::getenv(v)) saved_.emplace_back(v, old);
      ::unsetenv(v);
    }
    dir_ = std::filesystem::temp_directory_path() / ("af_aws_creds_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ::setenv("HOME", dir_.c_str(), 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  }
  void TearDown() override {
    for (const char* v : kVariables) ::unsetenv(v);
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  void use_web_identity() {
    ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", server_.web_identity_token + "\n").c_str(), 1);
    ::setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/signal", 1);
    ::setenv("AWS_ENDPOINT_URL_STS", server_.sts_url().c_str(), 1);
  }
  void use_container() {
    ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_.container_url().c_str(), 1);
    ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", server_.container_token.c_str(), 1);
  }
  void use_imds() {
    ::unsetenv("AWS_EC2_METADATA_DISABLED");
    ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server_.base().c_str(), 1);
  }
  Result<AwsCredentials> resolve() {
    net::HttpClientOptions o;
    o.connect_timeout_ms = 2000;
    o.io_timeout_ms = 2000;
    net::HttpClient http(o);
    return resolve_aws_credentials(http);
  }
  // A port nothing listens on.
  static std::string dead_url() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    a.close();
    return "http://127.0.0.1:" + std::to_string(port);
  }

  AwsCredentialsServer server_;
  std::filesystem::path dir_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(AwsCredentialsTest, EnvironmentComesFirst) {
  use_web_identity();
  use_container();
  use_imds();
  ::setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->provider, "environment");
  EXPECT_EQ(c->keys.access_key_id, "AKIAENV");
  EXPECT_EQ(c->expires_at_ms, 0);
  EXPECT_EQ(server_.issued.load(), 0);
}

TEST_F(AwsCredentialsTest, SharedFileProfileBeforeWebIdentity) {
  use_web_identity();
  ::setenv("AWS_SHARED_CREDENTIALS_FILE",
           write("credentials", "[default]\naws_access_key_id = AKIADEF\naws_secret_access_key = d\n"
                                "[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = c\n")
               .c_str(),
           1);
  ::setenv("AWS_PROFILE", "ci", 1);
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->provider, "shared credentials file");
  EXPECT_EQ(c->keys.access_key_id, "AKIACI");
  EXPECT_EQ(server_.issued.load(), 0);
}

TEST_F(AwsCredentialsTest, NoDefaultCredentialsFileFallsThroughToTheNextProvider) {
  use_web_identity();  // ~/.aws/credentials does not exist under the test HOME
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->provider, "web identity");
}

TEST_F(AwsCredentialsTest, WebIdentityAssumesTheRoleAtSts) {
  use_web_identity();
  use_container();
  ::setenv("AWS_ROLE_SESSION_NAME", "signal-prod", 1);
  const int64_t before = static_cast<int64_t>(std::time(nullptr)) * 1000;
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->provider, "web identity");
  EXPECT_EQ(c->keys.access_key_id, "ASIATEST1");
  EXPECT_EQ(c->keys.secret_access_key, "secret-1");
  EXPECT_EQ(c->keys.session_token, "token-1");
  EXPECT_GE(c->expires_at_ms, before + 3599'000);
  EXPECT_LE(c->expires_at_ms, before + 3602'000);
  const std::string body = server_.last_sts_body();
  EXPECT_NE(body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fsignal"), std::string::npos) << body;
  EXPECT_NE(body.find("RoleSessionName=signal-prod"), std::string::npos) << body;
  EXPECT_NE(body.find("Version=2011-06-15"), std::string::npos) << body;
}

TEST_F(AwsCredentialsTest, WebIdentityFailures) {
  use_web_identity();
  ::unsetenv("AWS_ROLE_ARN");
  auto c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "AWS credentials (web identity): AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together");

  use_web_identity();
  server_.web_identity_token = "another-jwt";
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (web identity): STS AssumeRoleWithWebIdentity at " +
                                   server_.sts_url() + "/: HTTP 400 InvalidIdentityToken: Incorrect token audience");
  EXPECT_EQ(c.error().message.find("web-identity-jwt"), std::string::npos);  // the token is a secret

  use_web_identity();
  server_.fault = Fault::kMalformed;
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (web identity): STS AssumeRoleWithWebIdentity at " +
                                   server_.sts_url() + "/: response lacks AccessKeyId");
  server_.fault = Fault::kMissingSecret;
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (web identity): STS AssumeRoleWithWebIdentity at " +
                                   server_.sts_url() + "/: response lacks SecretAccessKey");

  ::setenv("AWS_ENDPOINT_URL_STS", dead_url().c_str(), 1);
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind("AWS credentials (web identity): POST " + dead_url().substr(0, 10), 0), 0u)
      << c.error().message;
  EXPECT_NE(c.error().message.find(": connect: "), std::string::npos) << c.error().message;
  EXPECT_TRUE(c.error().transient);

  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", (dir_ / "absent").c_str(), 1);
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (web identity): cannot read AWS_WEB_IDENTITY_TOKEN_FILE: " +
                                   (dir_ / "absent").string() + ": cannot open: No such file or directory");

  // A directory, or a file far larger than any token, is refused without reading it.
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", dir_.c_str(), 1);
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (web identity): cannot read AWS_WEB_IDENTITY_TOKEN_FILE: " +
                                   dir_.string() + ": not a regular file");
  const std::string huge = write("huge-token", std::string((1u << 20) + 1, 'x'));
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", huge.c_str(), 1);
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("cannot read AWS_WEB_IDENTITY_TOKEN_FILE: " + huge + ": 1048577 bytes, more than"),
            std::string::npos)
      << c.error().message;
}

TEST_F(AwsCredentialsTest, ContainerEndpointWithAuthorizationTokenFile) {
  use_container();
  use_imds();
  ::unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write("auth", server_.container_token + "\n").c_str(), 1);
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->provider, "container endpoint");
  EXPECT_EQ(c->keys.access_key_id, "ASIATEST1");
  EXPECT_EQ(c->keys.session_token, "token-1");
  EXPECT_EQ(server_.imds_tokens.load(), 0);  // the container endpoint came first
}

TEST_F(AwsCredentialsTest, ContainerEndpointFailures) {
  use_container();
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token", 1);
  auto c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (container endpoint): GET " + server_.container_url() +
                                   ": HTTP 401: {\"message\":\"unauthorized\"}");
  EXPECT_EQ(c.error().message.find("wrong-token"), std::string::npos);

  use_container();
  server_.fault = Fault::kMalformed;
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (container endpoint): GET " + server_.container_url() +
                                   ": response is not a JSON object");
  server_.fault = Fault::kMissingSecret;
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (container endpoint): GET " + server_.container_url() +
                                   ": response lacks SecretAccessKey");
  EXPECT_EQ(c.error().message.find("token-"), std::string::npos);
  server_.fault = Fault::kServerError;
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (container endpoint): GET " + server_.container_url() +
                                   ": HTTP 500: internal error");
  EXPECT_TRUE(c.error().transient);

  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (dead_url() + "/creds").c_str(), 1);
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind("AWS credentials (container endpoint): GET http://127.0.0.1:", 0), 0u)
      << c.error().message;
  EXPECT_NE(c.error().message.find(": connect: "), std::string::npos) << c.error().message;
}

TEST_F(AwsCredentialsTest, InstanceMetadataV2TokenThenRoleThenCredentials) {
  use_imds();
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->provider, "instance metadata");
  EXPECT_EQ(c->keys.access_key_id, "ASIATEST1");
  EXPECT_EQ(c->keys.secret_access_key, "secret-1");
  EXPECT_EQ(server_.imds_tokens.load(), 1);
  EXPECT_EQ(server_.rejected.load(), 0);  // every metadata GET carried the session token
}

TEST_F(AwsCredentialsTest, InstanceMetadataFailures) {
  use_imds();
  server_.fault = Fault::kMissingSecret;
  auto c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (instance metadata): GET " + server_.base() +
                                   "/latest/meta-data/iam/security-credentials/test-role: response lacks "
                                   "SecretAccessKey");
  server_.fault = Fault::kMalformed;
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "AWS credentials (instance metadata): GET " + server_.base() +
                                   "/latest/meta-data/iam/security-credentials/test-role: response is not a JSON "
                                   "object");

  // Off EC2 nothing answers: "none found", fatal, naming what was looked at.
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", dead_url().c_str(), 1);
  c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind("AWS credentials: none found (no keys in the environment or a shared "
                                    "credentials file, no web identity or container endpoint configured); AWS "
                                    "credentials (instance metadata): PUT http://127.0.0.1:",
                                    0),
            0u)
      << c.error().message;
  EXPECT_FALSE(c.error().transient);
}

TEST_F(AwsCredentialsTest, NothingConfiguredNamesEveryPlace) {
  auto c = resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "AWS credentials: none found (looked at: the environment, the shared credentials file, web identity, "
            "the container endpoint; the instance metadata service is disabled by AWS_EC2_METADATA_DISABLED)");
  EXPECT_FALSE(c.error().transient);
}

TEST_F(AwsCredentialsTest, TemporaryCredentialsAreRefreshedBeforeTheyExpire) {
  use_container();
  server_.lifetime_s = 600;
  int64_t now = static_cast<int64_t>(std::time(nullptr)) * 1000;
  AwsCredentialChainOptions o;
  o.now_ms = [&now] { return now; };
  AwsCredentialChain chain(o);
  auto k = chain.current();
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->access_key_id, "ASIATEST1");
  now += 200'000;  // 400 s left: more than the 5 minute margin
  EXPECT_EQ(chain.current()->access_key_id, "ASIATEST1");
  EXPECT_EQ(server_.issued.load(), 1);
  now += 120'000;  // 280 s left
  EXPECT_EQ(chain.current()->access_key_id, "ASIATEST2");
  EXPECT_EQ(chain.refreshes(), 1);

  // The endpoint fails: the old keys serve while they are valid...
  server_.fault = Fault::kServerError;
  now += 100'000;  // ASIATEST2 has 180 s left: a refresh is due
  k = chain.current();
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->access_key_id, "ASIATEST2");
  EXPECT_EQ(server_.issued.load(), 2);
  // ...and once they have expired, the sink gets a transient error naming the provider.
  now += 200'000;
  k = chain.current();
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().message, "AWS credentials (container endpoint): GET " + server_.container_url() +
                                   ": HTTP 500: internal error");
  EXPECT_TRUE(k.error().transient);
  server_.fault = Fault::kNone;
  EXPECT_EQ(chain.current()->access_key_id, "ASIATEST3");
}

TEST_F(AwsCredentialsTest, InvalidateFetchesNewKeysAtOnce) {
  use_web_identity();
  AwsCredentialChain chain;
  EXPECT_EQ(chain.current()->access_key_id, "ASIATEST1");
  EXPECT_EQ(chain.current()->access_key_id, "ASIATEST1");
  chain.invalidate();
  EXPECT_EQ(chain.current()->access_key_id, "ASIATEST2");
  EXPECT_EQ(chain.provider(), "web identity");
}

TEST_F(AwsCredentialsTest, LongTermKeysAreNeverRefetched) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  AwsCredentialChain chain;
  EXPECT_EQ(chain.current()->access_key_id, "AKIAENV");
  chain.invalidate();
  ::setenv("AWS_ACCESS_KEY_ID", "AKIACHANGED", 1);
  EXPECT_EQ(chain.current()->access_key_id, "AKIAENV");
}

TEST(AwsTimestamp, ParsesIso8601Utc) {
  EXPECT_EQ(parse_aws_timestamp("2026-12-02T10:00:00Z"), 1'796'205'600'000);
  EXPECT_EQ(parse_aws_timestamp("2026-12-02T10:00:00.123Z"), 1'796'205'600'000);
  EXPECT_FALSE(parse_aws_timestamp("2026-12-02 10:00:00Z"));
  EXPECT_FALSE(parse_aws_timestamp("2026-13-02T10:00:00Z"));
  EXPECT_FALSE(parse_aws_timestamp("2026-12-02T10:00:00+01:00"));
  EXPECT_FALSE(parse_aws_timestamp(""));
  EXPECT_FALSE(parse_aws_timestamp("2026-12-02T10:00:0xZ"));
}

}  // namespace
}  // namespace af::sinks
