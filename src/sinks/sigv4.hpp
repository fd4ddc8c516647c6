#pragma once
// AWS Signature Version 4 (header variant), written for the DynamoDB sink and
// checked against AWS's own test suite. Pure functions, no I/O, any thread.
// OpenSSL provides SHA-256 and HMAC.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace af::sinks {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none
};

// One request to sign. `path` is the request path as sent (it is normalised and
// URI-encoded for the canonical request); `query` the raw query string without '?'.
struct SigV4Request {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // must include Host
  std::string body;
};

struct SigV4Options {
  std::string region;
  std::string service;
  std::string amz_date;          // "20150830T123600Z"
  bool normalize_path = true;    // remove "." / ".." segments and repeated slashes (every service but S3)
  bool sign_body = false;        // add x-amz-content-sha256 (S3 wants it; DynamoDB does not)
  bool omit_session_token = false;  // sign without the token, add it afterwards
};

// Everything the signer computed: the intermediate strings are exposed so that
// tests can compare each step with the reference suite.
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // value of the Authorization header
  // Headers to add to the request: X-Amz-Date, X-Amz-Security-Token (if any),
  // x-amz-content-sha256 (if sign_body), Authorization.
  std::vector<std::pair<std::string, std::string>> added_headers;
};

SigV4Signature sigv4_sign(const SigV4Request& request, const SigV4Credentials& credentials,
                          const SigV4Options& options);

// Helpers, exposed for tests.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string to_hex(std::string_view bytes);
// "20150830T123600Z" for a Unix time in seconds.
std::string amz_date_from_unix(int64_t seconds);

}  // namespace af::sinks
