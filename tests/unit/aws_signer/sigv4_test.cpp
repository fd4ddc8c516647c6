// The SigV4 signer against AWS's published test suite ($AF_SHARED_DIR/data/sigv4,
// skipped when absent), against vectors committed here (signatures from that
// suite, and DynamoDB requests signed by botocore, an independent implementation),
// and the primitives against their RFC test vectors.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "sinks/sigv4.hpp"
#include "support/process.hpp"

namespace af::sinks {
namespace {

namespace fs = std::filesystem;

struct ParsedRequest {
  SigV4Request request;
  bool ok = false;
};

// Reads the suite's request.txt: "METHOD PATH[?QUERY] HTTP/1.1", "Name:value"
// lines, a blank line, the body.
ParsedRequest parse_request(const std::string& text) {
  ParsedRequest out;
  auto& r = out.request;
  size_t pos = text.find('\n');
  std::string first = text.substr(0, pos);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  const size_t sp = first.find(' ');
  const size_t http = first.rfind(" HTTP/");
  if (sp == std::string::npos || http == std::string::npos || http <= sp) return out;
  r.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, http - sp - 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  while (pos != std::string::npos && pos + 1 <= text.size()) {
    const size_t start = pos + 1;
    pos = text.find('\n', start);
    std::string line = text.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (pos != std::string::npos) r.body = text.substr(pos + 1);
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {  // folded value
      r.headers.back().second += ',' + line;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return out;
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  out.ok = true;
  return out;
}

std::string read(const fs::path& p) { return af::testing::read_file(p); }

TEST(SigV4Suite, EveryHeaderCaseOfAwsTestSuite) {
  const fs::path dir = af::testing::shared_data_dir() / "sigv4";
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is absent (AWS SigV4 test suite)";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "header-signature.txt")) continue;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    const auto ctx = nlohmann::json::parse(read(entry.path() / "context.json"));
    auto parsed = parse_request(read(entry.path() / "request.txt"));
    ASSERT_TRUE(parsed.ok);
    SigV4Credentials creds{ctx["credentials"]["access_key_id"], ctx["credentials"]["secret_access_key"],
                           ctx["credentials"].value("token", "")};
    SigV4Options opt;
    opt.region = ctx["region"];
    opt.service = ctx["service"];
    std::string ts = ctx["timestamp"];  // 2015-08-30T12:36:00Z
    opt.amz_date = ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2) + "T" + ts.substr(11, 2) + ts.substr(14, 2) +
                   ts.substr(17, 2) + "Z";
    opt.normalize_path = ctx.value("normalize", true);
    opt.sign_body = ctx.value("sign_body", false);
    opt.omit_session_token = ctx.value("omit_session_token", false);
    const auto sig = sigv4_sign(parsed.request, creds, opt);
    EXPECT_EQ(sig.canonical_request, read(entry.path() / "header-canonical-request.txt"));
    EXPECT_EQ(sig.string_to_sign, read(entry.path() / "header-string-to-sign.txt"));
    EXPECT_EQ(sig.signature, read(entry.path() / "header-signature.txt"));
    const std::string signed_request = read(entry.path() / "header-signed-request.txt");
    EXPECT_NE(signed_request.find("Authorization:" + sig.authorization), std::string::npos) << signed_request;
    ++cases;
  }
  EXPECT_GE(cases, 10);
}

const SigV4Credentials kExampleCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

SigV4Options suite_options() {
  SigV4Options o;
  o.region = "us-east-1";
  o.service = "service";
  o.amz_date = "20150830T123600Z";
  return o;
}

// Signatures copied from the suite's header-signature.txt files, so that the
// signer is checked even where the suite is not installed.
TEST(SigV4Vectors, SuiteSignaturesCommittedHere) {
  struct Case {
    const char* method;
    const char* path;
    const char* query;
    std::vector<std::pair<std::string, std::string>> headers;
    const char* body;
    std::string token;
    bool sign_body;
    const char* signature;
  };
  const std::vector<Case> cases = {
      {"GET", "/", "", {{"Host", "example.amazonaws.com"}}, "", "", false,
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},  // get-vanilla
      {"GET", "/ሴ", "", {{"Host", "example.amazonaws.com"}}, "", "", false,
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},  // get-utf8
      {"GET", "//example//", "", {{"Host", "example.amazonaws.com"}}, "", "", false,
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},  // get-slashes-normalized
      {"GET", "/example space/", "", {{"Host", "example.amazonaws.com"}}, "", "", false,
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},  // get-space-normalized
      {"GET", "/", "", {{"Host", "example.amazonaws.com"}, {"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
       "", "", false, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},  // get-header-value-trim
      {"GET", "/", "", {{"Host", "example.amazonaws.com"}}, "",
       "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", false,
       "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},  // get-vanilla-with-session-token
      {"POST", "/", "Param1=value1", {{"Host", "example.amazonaws.com"}}, "", "", false,
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},  // post-vanilla-query
      {"POST", "/", "",
       {{"Content-Type", "application/x-www-form-urlencoded"}, {"Host", "example.amazonaws.com"},
        {"Content-Length", "13"}},
       "Param1=value1", "", true, "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path + "?" + c.query);
    SigV4Request r{c.method, c.path, c.query, c.headers, c.body};
    SigV4Options o = suite_options();
    o.sign_body = c.sign_body;
    SigV4Credentials creds = kExampleCreds;
    creds.session_token = c.token;
    EXPECT_EQ(sigv4_sign(r, creds, o).signature, c.signature);
  }
}

// A DynamoDB PutItem signed by botocore (SigV4Auth, region eu-west-1, service
// dynamodb) with the same credentials: an independent implementation.
TEST(SigV4Vectors, DynamoDbRequestAsBotocoreSignsIt) {
  const std::string body =
      R"({"TableName":"predictions","Item":{"pk":{"S":"dag#BTCUSDT"},"ts":{"N":"1766754000000"}}})";
  SigV4Request r{"POST", "/", "",
                 {{"Content-Type", "application/x-amz-json-1.0"},
                  {"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                  {"Host", "dynamodb.eu-west-1.amazonaws.com"}},
                 body};
  SigV4Options o;
  o.region = "eu-west-1";
  o.service = "dynamodb";
  o.amz_date = "20261127T125219Z";
  auto sig = sigv4_sign(r, kExampleCreds, o);
  EXPECT_EQ(sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-1/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=1063b65b039c8c934176109ab6cdfe0a05ab05c2811152c14016c82b38496215");
  SigV4Credentials with_token = kExampleCreds;
  with_token.session_token = "SESSIONTOKEN/abc+=";
  sig = sigv4_sign(r, with_token, o);
  EXPECT_EQ(sig.signature, "19c06feea31ad449bf3fe081ad22c9586ea4759e3e6cc69b3481836ce1717cb9");
  bool has_token = false;
  for (const auto& [k, v] : sig.added_headers) has_token = has_token || (k == "X-Amz-Security-Token" && v == with_token.session_token);
  EXPECT_TRUE(has_token);
}

TEST(SigV4Primitives, Sha256AndHmacRfcVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(amz_date_from_unix(1440938160), "20150830T123600Z");
}

}  // namespace
}  // namespace af::sinks
