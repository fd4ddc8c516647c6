#pragma once
// AwsCredentialChain: where the DynamoDB sink gets the keys it signs with, in the
// AWS SDKs' order, the first provider that applies winning:
//   1. the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
//   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
//      profile AWS_PROFILE or default),
//   3. web identity (STS AssumeRoleWithWebIdentity),
//   4. the container credentials endpoint,
//   5. the EC2 instance metadata service (IMDSv2)
// (3-5: sinks/aws_remote_credentials.hpp). A provider that applies but fails
// ends the search with its error: falling through to another identity would
// sign as someone else.
// Temporary credentials (3-5) carry an expiry; current() fetches new ones from
// the same provider once they are within `refresh_margin_ms` of it, and
// invalidate() forces that after the server answered ExpiredToken. A failed
// refresh keeps the old keys while they are valid (a warning, retried at most
// every `retry_interval_ms`) and is a transient error after that.
// Owned by one sink and used on its worker thread only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "net/http_client.hpp"
#include "sinks/aws_remote_credentials.hpp"

namespace af::sinks {

struct AwsCredentialChainOptions {
  int64_t refresh_margin_ms = 5 * 60 * 1000;
  int64_t retry_interval_ms = 10 * 1000;
  int64_t timeout_ms = 5000;  // connect and I/O, per request to a credentials endpoint
  std::string ca_file;        // for an https STS endpoint
  std::function<int64_t()> now_ms;  // unix ms; default the system clock
};

// Walks the chain once (no caching). Errors name the provider that failed, or,
// when none applies, every place looked at.
Result<AwsCredentials> resolve_aws_credentials(net::HttpClient& http);

class AwsCredentialChain {
 public:
  explicit AwsCredentialChain(AwsCredentialChainOptions options = {});

  // The keys to sign the next request with.
  Result<SigV4Credentials> current();
  // The server rejected the current keys as expired: the next current() fetches new ones.
  void invalidate();
  // The provider of the keys in use ("" before the first current()).
  const std::string& provider() const { return creds_ ? creds_->provider : kNone; }
  int64_t refreshes() const { return refreshes_; }

 private:
  Result<AwsCredentials> fetch();

  static inline const std::string kNone;
  AwsCredentialChainOptions options_;
  net::HttpClient http_;
  std::optional<AwsCredentials> creds_;
  bool invalidated_ = false;
  int64_t last_attempt_ms_ = 0;
  int64_t refreshes_ = 0;
};

}  // namespace af::sinks
