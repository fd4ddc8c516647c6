#include "sinks/dynamodb_credentials.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace af::sinks {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<std::optional<SigV4Credentials>> static_aws_credentials() {
  SigV4Credentials c;
  c.access_key_id = env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) {
    c.session_token = env("AWS_SESSION_TOKEN");
    return std::optional<SigV4Credentials>(c);
  }
  if (!c.access_key_id.empty() || !c.secret_access_key.empty())
    return make_error("AWS credentials (environment): only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set");

  const std::string explicit_file = env("AWS_SHARED_CREDENTIALS_FILE");
  std::string path = explicit_file;
  if (path.empty()) {
    const std::string home = env("HOME");
    if (home.empty()) return std::optional<SigV4Credentials>();
    path = home + "/.aws/credentials";
  }
  const std::string explicit_profile = env("AWS_PROFILE");
  const std::string profile = explicit_profile.empty() ? "default" : explicit_profile;

  std::ifstream in(path);
  // No file where none was asked for: the next provider of the chain.
  if (!in && errno == ENOENT && explicit_file.empty() && explicit_profile.empty())
    return std::optional<SigV4Credentials>();
  if (!in) {
    const std::string why = std::strerror(errno);
    return make_error("AWS credentials (shared credentials file): cannot read credentials file '" +
                      path + "': " + why);
  }
  std::string line, section;
  int line_no = 0;
  bool found_profile = false;
  c = {};
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']')
        return make_error("AWS credentials file '" + path + "':" + std::to_string(line_no) + ": malformed section");
      section = trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = trim(section.substr(8));
      found_profile = found_profile || section == profile;
      continue;
    }
    if (section != profile) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos)
      return make_error("AWS credentials file '" + path + "':" + std::to_string(line_no) + ": expected key = value");
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  // The default profile may be absent (a file with only named profiles); an
  // AWS_PROFILE that names a missing one is a mistake.
  if (!found_profile && explicit_profile.empty()) return std::optional<SigV4Credentials>();
  if (!found_profile) return make_error("AWS credentials file '" + path + "': no profile [" + profile + "]");
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return make_error("AWS credentials file '" + path + "': profile [" + profile +
                      "] lacks aws_access_key_id or aws_secret_access_key");
  return std::optional<SigV4Credentials>(c);
}

}  // namespace af::sinks
