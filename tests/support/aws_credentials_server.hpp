#pragma once
// AwsCredentialsServer: plays, on 127.0.0.1, the three endpoints that hand out
// temporary AWS credentials, following their real protocols:
//  - STS AssumeRoleWithWebIdentity (POST /sts/, form body, XML answer),
//  - the container credentials endpoint (GET /container/creds, Authorization checked),
//  - IMDSv2 (PUT /latest/api/token, then GET /latest/meta-data/iam/security-credentials/[role]
//    with the X-aws-ec2-metadata-token header).
// Every credentials answer is a fresh key pair ASIATEST<n> / secret-<n> /
// token-<n> valid for `lifetime_s`; expired(token) tells whether a session token
// it issued has passed its expiry (a DynamoDB stand-in rejects those). Faults:
// `fault` turns every credentials answer malformed, incomplete or a 500.
// Test-only.

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <string>

#include "unit/binance/loopback_server.hpp"

namespace af::test {

class AwsCredentialsServer {
 public:
  enum class Fault { kNone, kMalformed, kMissingSecret, kServerError };

  AwsCredentialsServer() : server_([this](const HttpRequest& r) { return handle(r); }) {}

  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::string sts_url() const { return base() + "/sts"; }
  std::string container_url() const { return base() + "/container/creds"; }

  std::atomic<int> lifetime_s{3600};
  std::atomic<Fault> fault{Fault::kNone};
  std::string container_token = "container-auth-token";  // set before the first request
  std::string web_identity_token = "web-identity-jwt";
  std::atomic<int> issued{0}, imds_tokens{0}, rejected{0};

  // The last STS form body (for asserting what was sent).
  std::string last_sts_body() {
    std::lock_guard lock(mutex_);
    return last_sts_body_;
  }
  // True when `session_token` was issued here and has expired (or was never issued).
  bool expired(const std::string& session_token) {
    std::lock_guard lock(mutex_);
    auto it = expiry_.find(session_token);
    return it == expiry_.end() || std::time(nullptr) >= it->second;
  }

 private:
  static HttpResponse reply(int status, std::string body, const std::string& type = "application/json") {
    HttpResponse res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, type);
    res.body() = std::move(body);
    return res;
  }

  static std::string iso8601(std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  struct Keys {
    std::string id, secret, token, expiration;
  };
  Keys issue() {
    const int n = ++issued;
    const std::time_t until = std::time(nullptr) + lifetime_s.load();
    Keys k{"ASIATEST" + std::to_string(n), "secret-" + std::to_string(n), "token-" + std::to_string(n),
           iso8601(until)};
    std::lock_guard lock(mutex_);
    expiry_[k.token] = until;
    return k;
  }

  HttpResponse json_credentials() {
    if (fault == Fault::kServerError) return reply(500, "internal error");
    if (fault == Fault::kMalformed) return reply(200, "{\"AccessKeyId\": \"ASIA");
    const Keys k = issue();
    std::string doc = "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"" + k.id + "\",";
    if (fault != Fault::kMissingSecret) doc += "\"SecretAccessKey\":\"" + k.secret + "\",";
    doc += "\"Token\":\"" + k.token + "\",\"Expiration\":\"" + k.expiration + "\"}";
    return reply(200, doc);
  }

  HttpResponse sts(const HttpRequest& r) {
    {
      std::lock_guard lock(mutex_);
      last_sts_body_ = r.body();
    }
    if (r.method() != http::verb::post || r.body().find("Action=AssumeRoleWithWebIdentity") == std::string::npos)
      return reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code><Message>bad action</Message></Error>"
                        "</ErrorResponse>", "text/xml");
    if (r.body().find("WebIdentityToken=" + web_identity_token) == std::string::npos) {
      ++rejected;
      return reply(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>Incorrect token "
                        "audience</Message></Error></ErrorResponse>", "text/xml");
    }
    if (fault == Fault::kServerError) return reply(503, "unavailable", "text/plain");
    if (fault == Fault::kMalformed) return reply(200, "<AssumeRoleWithWebIdentityResponse><Credentials>", "text/xml");
    const Keys k = issue();
    std::string xml = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                      "<AccessKeyId>" + k.id + "</AccessKeyId>";
    if (fault != Fault::kMissingSecret) xml += "<SecretAccessKey>" + k.secret + "</SecretAccessKey>";
    xml += "<SessionToken>" + k.token + "</SessionToken><Expiration>" + k.expiration +
           "</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    return reply(200, xml, "text/xml");
  }

  HttpResponse handle(const HttpRequest& r) {
    const std::string target(r.target());
    if (target == "/sts/") return sts(r);
    if (target == "/container/creds") {
      if (std::string(r[http::field::authorization]) != container_token) {
        ++rejected;
        return reply(401, "{\"message\":\"unauthorized\"}");
      }
      return json_credentials();
    }
    if (target == "/latest/api/token") {
      if (r.method() != http::verb::put || r["X-aws-ec2-metadata-token-ttl-seconds"].empty())
        return reply(400, "token request must be a PUT with a TTL", "text/plain");
      return reply(200, "imds-session-" + std::to_string(++imds_tokens), "text/plain");
    }
    if (target.rfind("/latest/meta-data/iam/security-credentials/", 0) == 0) {
      if (r["X-aws-ec2-metadata-token"].empty() ||
          std::string(r["X-aws-ec2-metadata-token"]).rfind("imds-session-", 0) != 0) {
        ++rejected;
        return reply(401, "", "text/plain");
      }
      if (target == "/latest/meta-data/iam/security-credentials/") return reply(200, "test-role", "text/plain");
      if (target == "/latest/meta-data/iam/security-credentials/test-role") return json_credentials();
    }
    return reply(404, "not found", "text/plain");
  }

  std::mutex mutex_;
  std::string last_sts_body_;
  std::map<std::string, std::time_t> expiry_;
  LoopbackServer server_;  // last: stopped (joined) before the state above is destroyed
};

}  // namespace af::test
