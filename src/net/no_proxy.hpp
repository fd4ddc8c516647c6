#pragma once
// NO_PROXY matching, by curl's rules: the list is separated by commas (and
// blanks); "*" alone bypasses the proxy for every host; an entry names a host
// and every host under it ("example.com" and ".example.com" both match
// "example.com" and "api.example.com", never "badexample.com"); an IP address
// matches only itself, literally (no CIDR ranges); an optional ":port" limits an
// entry to that port ("[::1]:8080" for an IPv6 address). Case-insensitive. Pure
// function, any thread.

#include <string_view>

namespace af::net {

// True when `no_proxy` names `host` (no brackets around an IPv6 address) on `port`.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port);

}  // namespace af::net
