#pragma once
// The AWS credential providers that ask an endpoint for temporary credentials,
// as the AWS SDKs do:
//  - web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME)
//    exchanged at STS AssumeRoleWithWebIdentity (endpoint AWS_ENDPOINT_URL_STS,
//    else https://sts.<AWS_REGION>.amazonaws.com, else https://sts.amazonaws.com);
//  - the container credentials endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
//    (on http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with the
//    Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
//    AWS_CONTAINER_AUTHORIZATION_TOKEN;
//  - the EC2 instance metadata service, IMDSv2 only (PUT a session token, then
//    GET the role and its credentials); endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT,
//    else http://169.254.169.254; off with AWS_EC2_METADATA_DISABLED=true.
// Each provider answers nullopt when its environment does not select it, the
// credentials with their expiry, or a one-line error that names the provider and
// the endpoint and never quotes a secret or a token.

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "net/http_client.hpp"
#include "sinks/sigv4.hpp"

namespace af::sinks {

struct AwsCredentials {
  SigV4Credentials keys;
  int64_t expires_at_ms = 0;  // unix ms; 0: long-term keys that do not expire
  std::string provider;       // "environment", "shared credentials file", "web identity", ...
};

// "2026-12-02T10:00:00Z" (also with fractional seconds) -> unix ms; nullopt when malformed.
std::optional<int64_t> parse_aws_timestamp(const std::string& text);

Result<std::optional<AwsCredentials>> web_identity_credentials(net::HttpClient& http);
Result<std::optional<AwsCredentials>> container_credentials(net::HttpClient& http);
Result<std::optional<AwsCredentials>> instance_metadata_credentials(net::HttpClient& http);

}  // namespace af::sinks
