#include "sinks/aws_remote_credentials.hpp"

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/read_whole_file.hpp"

namespace af::sinks {
namespace {

using nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Unreachable endpoints and 5xx answers are transient; malformed answers are not
// (the chain makes every failure of a refresh transient anyway).
Error provider_error(const std::string& provider, const std::string& what, bool transient = true) {
  return make_error("AWS credentials (" + provider + "): " + what, transient);
}

Result<std::string> read_token_file(const std::string& provider, const char* variable, const std::string& path) {
  // A token is a few KB: anything past 1 MiB is not a token file (a device, a log).
  auto read = read_whole_file(path, uint64_t{1} << 20);
  if (!read) return provider_error(provider, std::string("cannot read ") + variable + ": " + read.error().message);
  std::string token = std::move(read).value();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty()) return provider_error(provider, std::string(variable) + " '" + path + "' is empty", false);
  return token;
}

// A short excerpt of an error body for messages; credentials answers are only
// quoted when the status says they carry none.
std::string excerpt(const std::string& body) {
  std::string s = body.substr(0, 120);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// The JSON document of the container endpoint and of IMDS:
// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}.
Result<AwsCredentials> credentials_from_json(const std::string& provider, const std::string& where,
                                             const std::string& body) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return provider_error(provider, where + ": response is not a JSON object", false);
  if (doc.contains("Code") && doc["Code"].is_string() && doc["Code"] != "Success")
    return provider_error(provider, where + ": Code " + doc["Code"].get<std::string>(), false);
  AwsCredentials c;
  c.provider = provider;
  for (const char* field : {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}) {
    if (!doc.contains(field) || !doc[field].is_string() || doc[field].get<std::string>().empty())
      return provider_error(provider, where + ": response lacks " + field, false);
  }
  c.keys.access_key_id = doc["AccessKeyId"];
  c.keys.secret_access_key = doc["SecretAccessKey"];
  c.keys.session_token = doc["Token"];
  const auto expires = parse_aws_timestamp(doc["Expiration"]);
  if (!expires) return provider_error(provider, where + ": Expiration is not an ISO 8601 UTC time", false);
  c.expires_at_ms = *expires;
  return c;
}

// The text of the first <tag>...</tag> in an STS XML answer; nullopt when absent.
std::optional<std::string> xml_text(const std::string& xml, const std::string& tag) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  const size_t b = xml.find(open);
  if (b == std::string::npos) return std::nullopt;
  const size_t e = xml.find(close, b + open.size());
  if (e == std::string::npos) return std::nullopt;
  return xml.substr(b + open.size(), e - b - open.size());
}

// HTTP errors of a provider's endpoint: 5xx and connection failures are transient.
Error http_error(const std::string& provider, const std::string& where, const net::HttpResponse& res) {
  return provider_error(provider, where + ": HTTP " + std::to_string(res.status) + ": " + excerpt(res.body),
                        res.status >= 500 || res.status == 429);
}

}  // namespace

std::optional<int64_t> parse_aws_timestamp(const std::string& text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text.size() > 40 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text.back() != 'Z')
    return std::nullopt;
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
             s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  if (*y < 1970 || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  if (text.size() > 20 && text[19] != '.') return std::nullopt;
  for (size_t i = 20; i + 1 < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  const time_t t = timegm(&tm);
  if (t < 0) return std::nullopt;
  return static_cast<int64_t>(t) * 1000;
}

Result<std::optional<AwsCredentials>> web_identity_credentials(net::HttpClient& http) {
  const std::string provider = "web identity";
  const std::string token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  const std::string role_arn = env("AWS_ROLE_ARN");
  if (token_file.empty() && role_arn.empty()) return std::optional<AwsCredentials>();
  if (token_file.empty() || role_arn.empty())
    return provider_error(provider, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together", false);
  auto token = read_token_file(provider, "AWS_WEB_IDENTITY_TOKEN_FILE", token_file);
  if (!token) return token.error();
  std::string session = env("AWS_ROLE_SESSION_NAME");
  if (session.empty()) session = "alpha_forge-" + std::to_string(std::time(nullptr));
  std::string endpoint = env("AWS_ENDPOINT_URL_STS");
  if (endpoint.empty()) {
    const std::string region = env("AWS_REGION");
    endpoint = region.empty() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
  }
  auto url = net::parse_http_url(endpoint);
  if (!url) return provider_error(provider, "AWS_ENDPOINT_URL_STS: " + url.error().message, false);
  url->target = url->base_path() + "/";
  // AssumeRoleWithWebIdentity is not signed: the web identity token is the proof.
  const std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + net::url_encode(role_arn) +
                           "&RoleSessionName=" + net::url_encode(session) +
                           "&WebIdentityToken=" + net::url_encode(*token);
  const std::string where = "STS AssumeRoleWithWebIdentity at " + url->text();
  auto res = http.request("POST", *url, {{"Content-Type", "application/x-www-form-urlencoded"}}, body);
  if (!res) return provider_error(provider, res.error().message, res.error().transient);
  if (res->status != 200) {
    const auto code = xml_text(res->body, "Code");
    const auto message = xml_text(res->body, "Message");
    if (code)
      return provider_error(provider, where + ": HTTP " + std::to_string(res->status) + " " + *code + ": " +
                                          message.value_or(""),
                            res->status >= 500);
    return http_error(provider, where, *res);
  }
  AwsCredentials c;
  c.provider = provider;
  const auto key = xml_text(res->body, "AccessKeyId");
  const auto secret = xml_text(res->body, "SecretAccessKey");
  const auto session_token = xml_text(res->body, "SessionToken");
  const auto expiration = xml_text(res->body, "Expiration");
  if (!key || key->empty()) return provider_error(provider, where + ": response lacks AccessKeyId", false);
  if (!secret || secret->empty()) return provider_error(provider, where + ": response lacks SecretAccessKey", false);
  if (!session_token || session_token->empty()) return provider_error(provider, where + ": response lacks SessionToken", false);
  if (!expiration) return provider_error(provider, where + ": response lacks Expiration", false);
  const auto expires = parse_aws_timestamp(*expiration);
  if (!expires) return provider_error(provider, where + ": Expiration is not an ISO 8601 UTC time", false);
  c.keys = {*key, *secret, *session_token};
  c.expires_at_ms = *expires;
  return std::optional<AwsCredentials>(std::move(c));
}

Result<std::optional<AwsCredentials>> container_credentials(net::HttpClient& http) {
  const std::string provider = "container endpoint";
  const std::string relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative.empty() && full.empty()) return std::optional<AwsCredentials>();
  const std::string endpoint = !relative.empty() ? "http://169.254.170.2" + relative : full;
  auto url = net::parse_http_url(endpoint);
  if (!url) return provider_error(provider, url.error().message, false);
  net::HttpHeaders headers;
  if (const std::string file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    // Re-read at every fetch: the agent rotates the file.
    auto token = read_token_file(provider, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file);
    if (!token) return token.error();
    headers.emplace_back("Authorization", *token);
  } else if (const std::string token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN"); !token.empty()) {
    headers.emplace_back("Authorization", token);
  }
  const std::string where = "GET " + url->text();
  auto res = http.request("GET", *url, headers);
  if (!res) return provider_error(provider, res.error().message, res.error().transient);
  if (res->status != 200) return http_error(provider, where, *res);
  auto c = credentials_from_json(provider, where, res->body);
  if (!c) return c.error();
  return std::optional<AwsCredentials>(std::move(*c));
}

Result<std::optional<AwsCredentials>> instance_metadata_credentials(net::HttpClient& http) {
  const std::string provider = "instance metadata";
  std::string disabled = env("AWS_EC2_METADATA_DISABLED");
  for (char& ch : disabled) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (disabled == "true") return std::optional<AwsCredentials>();
  std::string endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  auto base = net::parse_http_url(endpoint);
  if (!base) return provider_error(provider, "AWS_EC2_METADATA_SERVICE_ENDPOINT: " + base.error().message, false);
  const std::string prefix = base->base_path();
  net::Url url = *base;

  url.target = prefix + "/latest/api/token";
  auto token = http.request("PUT", url, {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  if (!token) return provider_error(provider, token.error().message, token.error().transient);
  if (token->status != 200 || token->body.empty()) return http_error(provider, "PUT " + url.text(), *token);
  const net::HttpHeaders auth = {{"X-aws-ec2-metadata-token", token->body}};

  url.target = prefix + "/latest/meta-data/iam/security-credentials/";
  auto role = http.request("GET", url, auth);
  if (!role) return provider_error(provider, role.error().message, role.error().transient);
  if (role->status != 200) return http_error(provider, "GET " + url.text(), *role);
  std::string name = role->body.substr(0, role->body.find('\n'));
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  if (name.empty()) return provider_error(provider, "GET " + url.text() + ": no instance role attached", false);
  if (name.find_first_of("/?#% ") != std::string::npos)
    return provider_error(provider, "GET " + url.text() + ": malformed role name", false);

  url.target += name;
  auto creds = http.request("GET", url, auth);
  if (!creds) return provider_error(provider, creds.error().message, creds.error().transient);
  if (creds->status != 200) return http_error(provider, "GET " + url.text(), *creds);
  auto c = credentials_from_json(provider, "GET " + url.text(), creds->body);
  if (!c) return c.error();
  return std::optional<AwsCredentials>(std::move(*c));
}

}  // namespace af::sinks
