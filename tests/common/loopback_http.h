// Raw HTTP over 127.0.0.1 for the tests of the daemon's HTTP listener (unit and end-to-end): what
// goes out is exactly the bytes given, so malformed and oversized requests can be sent too.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <optional>
#include <string>

namespace fcd_test {

// Sends `raw` to 127.0.0.1:port and returns everything that comes back until the server closes
// the connection or `timeout_s` pass without a byte; nothing when it cannot connect. `finish`:
// then say that nothing more comes (shutdown SHUT_WR), as a client done sending does.
inline std::optional<std::string> loopback_exchange(int port, const std::string& raw, int timeout_s,
                                                    bool finish) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  for (size_t sent = 0; sent < raw.size();) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close before reading it all (oversized input)
    sent += static_cast<size_t>(n);
  }
  if (finish) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  ::close(fd);
  return out;
}

// A GET of `path` that asks the server to close afterwards, with a bearer token when one is given.
inline std::string get_request(const std::string& path, const std::string& token = "") {
  std::string raw = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
  return raw + "\r\n";
}

}  // namespace fcd_test
