#include "sinks/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdint>
#include <ctime>

namespace af::sinks {
namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

void append_encoded(std::string& out, std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes percent-encoding, so that an already encoded query or path is not
// encoded twice.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims the value and collapses runs of spaces into one (SigV4 "Trimall").
std::string trim_all(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string canonical_path(std::string_view raw, bool normalize) {
  const std::string decoded = percent_decode(raw);
  if (!normalize) {
    std::string out;
    append_encoded(out, decoded, true);
    return out.empty() ? "/" : out;
  }
  std::vector<std::string_view> segments;
  std::string_view rest(decoded);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  const bool trailing = decoded.size() > 1 && decoded.back() == '/';
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    append_encoded(out, segments[i], false);
  }
  if (trailing && !segments.empty()) out += '/';
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    std::string k, v;
    append_encoded(k, percent_decode(item.substr(0, eq)), false);
    if (eq != std::string_view::npos) append_encoded(v, percent_decode(item.substr(eq + 1)), false);
    params.emplace_back(std::move(k), std::move(v));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  const bool ok = EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1;
  assert(ok && len == SHA256_DIGEST_LENGTH);
  (void)ok;
  return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const unsigned char* r = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  assert(r != nullptr);
  (void)r;
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string amz_date_from_unix(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Signature sigv4_sign(const SigV4Request& request, const SigV4Credentials& credentials,
                          const SigV4Options& options) {
  SigV4Signature sig;
  const std::string payload_hash = sha256_hex(request.body);
  sig.added_headers.emplace_back("X-Amz-Date", options.amz_date);
  if (!credentials.session_token.empty() && !options.omit_session_token)
    sig.added_headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  if (options.sign_body) sig.added_headers.emplace_back("x-amz-content-sha256", payload_hash);

  // Canonical headers: lowercase names, sorted; repeated names joined by commas.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [k, v] : request.headers) headers.emplace_back(lower(k), trim_all(v));
  for (const auto& [k, v] : sig.added_headers) headers.emplace_back(lower(k), trim_all(v));
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // the '\n'
      canonical_headers += ',' + headers[i].second + '\n';
      continue;
    }
    canonical_headers += headers[i].first + ':' + headers[i].second + '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += headers[i].first;
  }

  sig.canonical_request = request.method + '\n' + canonical_path(request.path, options.normalize_path) + '\n' +
                          canonical_query(request.query) + '\n' + canonical_headers + '\n' + signed_headers +
                          '\n' + payload_hash;

  const std::string date = options.amz_date.substr(0, 8);
  const std::string scope = date + '/' + options.region + '/' + options.service + "/aws4_request";
  sig.string_to_sign =
      "AWS4-HMAC-SHA256\n" + options.amz_date + '\n' + scope + '\n' + sha256_hex(sig.canonical_request);

  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(key, options.region);
  key = hmac_sha256(key, options.service);
  key = hmac_sha256(key, "aws4_request");
  sig.signature = to_hex(hmac_sha256(key, sig.string_to_sign));
  sig.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + '/' + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + sig.signature;
  if (!credentials.session_token.empty() && options.omit_session_token)
    sig.added_headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  sig.added_headers.emplace_back("Authorization", sig.authorization);
  return sig;
}

}  // namespace af::sinks
