#include "net/no_proxy.hpp"

#include <strings.h>

#include <string>

namespace af::net {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One entry against the host and port; `entry` is trimmed and not empty.
bool entry_matches(std::string_view entry, std::string_view host, std::string_view port) {
  if (entry == "*") return true;
  std::string_view name = entry;
  std::string_view entry_port;
  if (name.front() == '[') {  // [::1] or [::1]:8080
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    if (close + 1 < name.size()) {
      if (name[close + 1] != ':') return false;
      entry_port = name.substr(close + 2);
    }
    name = name.substr(1, close - 1);
  } else if (const size_t colon = name.rfind(':'); colon != std::string_view::npos) {
    // One colon: host:port. More than one: a bare IPv6 address, no port.
    if (name.find(':') == colon) {
      entry_port = name.substr(colon + 1);
      name = name.substr(0, colon);
    }
  }
  if (!entry_port.empty() && entry_port != port) return false;
  while (!name.empty() && name.front() == '.') name.remove_prefix(1);
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return false;
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (iequals(name, host)) return true;
  // A domain suffix on a label boundary: "example.com" covers "api.example.com".
  // An IP address has no sub-hosts: "0.0.1" must not match "10.0.0.1".
  const bool host_is_ip = host.find(':') != std::string_view::npos ||
                          host.find_first_not_of("0123456789.") == std::string_view::npos;
  return !host_is_ip && host.size() > name.size() && host[host.size() - name.size() - 1] == '.' &&
         iequals(host.substr(host.size() - name.size()), name);
}

}  // namespace

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port) {
  size_t pos = 0;
  while (pos < no_proxy.size()) {
    const size_t end = no_proxy.find_first_of(", \t", pos);
    const std::string_view entry = no_proxy.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!entry.empty() && entry_matches(entry, host, port)) return true;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return false;
}

}  // namespace af::net
