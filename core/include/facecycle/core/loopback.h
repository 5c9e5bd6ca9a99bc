// Whether a gRPC address stays on this machine: the daemon refuses plain-text TCP off loopback,
// and the client refuses to send a token in plain text anywhere else. One rule for both sides.
// Header-only: the client does not link the core.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

namespace fc {

// "host" of host:port, [v6]:port and gRPC's dns:/ipv4:/ipv6: target forms.
inline std::string address_host(std::string a) {
  for (const char* p : {"dns:///", "dns:", "ipv4:", "ipv6:"})
    if (a.rfind(p, 0) == 0) a = a.substr(std::strlen(p));
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    return close == std::string::npos ? a : a.substr(1, close - 1);
  }
  auto colon = a.rfind(':');
  // More than one colon without brackets: a bare IPv6 address with no port.
  if (colon != std::string::npos && a.find(':') == colon) return a.substr(0, colon);
  return a;
}

// 127.0.0.0/8, ::1, ::ffff:127.x.x.x and "localhost" never leave the machine; any other name
// might, whatever it resolves to today.
inline bool is_loopback_address(const std::string& address) {
  std::string host = address_host(address);
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
}

}  // namespace fc
