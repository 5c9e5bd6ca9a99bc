#include "cutting_proxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fcd_test {
namespace {

constexpr const char* kSocketName = "/.s.PGSQL.5432";  // libpq's name for the default port

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long: " + path);
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  return a;
}

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const sockaddr_un a = unix_address(path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

CuttingProxy::CuttingProxy(const std::string& url) {
  const auto host = url.find("host=");
  if (host == std::string::npos) throw std::runtime_error("no host= socket folder in " + url);
  const std::string cluster_dir = url.substr(host + 5, url.find('&', host) - host - 5);
  server_socket_ = cluster_dir + kSocketName;
  char tmpl[] = "/tmp/fc-proxy-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  url_ = url.substr(0, host + 5) + dir_ + url.substr(host + 5 + cluster_dir.size());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const sockaddr_un a = unix_address(dir_ + kSocketName);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::pipe(wake_) != 0)
    throw std::runtime_error("the proxy cannot listen in " + dir_);
  loop_ = std::thread([this] { run(); });
}

CuttingProxy::~CuttingProxy() {
  stop_ = true;
  (void)!::write(wake_[1], "x", 1);
  loop_.join();
  for (size_t i = pairs_.size(); i-- > 0;) close_pair(i);
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

int CuttingProxy::cut() {
  std::lock_guard<std::mutex> lk(mu_);
  // The loop sees the client side end, and drops the server side once the server answers into a
  // connection that is gone: the server's statement is never interrupted.
  for (const Pair& p : pairs_) ::shutdown(p.client, SHUT_RDWR);
  return static_cast<int>(pairs_.size());
}

// Copies what `from` has to `to`; false when either side is done.
bool CuttingProxy::forward(int from, int to) {
  char buf[65536];
  const ssize_t n = ::recv(from, buf, sizeof buf, 0);
  if (n <= 0) return false;
  for (ssize_t sent = 0; sent < n;) {
    const ssize_t w = ::send(to, buf + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += w;
  }
  return true;
}

void CuttingProxy::close_pair(size_t i) {
  ::close(pairs_[i].client);
  ::close(pairs_[i].server);
  pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(i));
}

void CuttingProxy::run() {
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    std::vector<Pair> pairs;
    {
      std::lock_guard<std::mutex> lk(mu_);
      pairs = pairs_;
    }
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      const int server = client < 0 ? -1 : connect_unix(server_socket_);
      std::lock_guard<std::mutex> lk(mu_);
      if (server >= 0)
        pairs_.push_back({client, server});
      else if (client >= 0)
        ::close(client);
    }
    for (size_t k = 0; k < pairs.size(); ++k) {
      const pollfd& c = fds[2 + 2 * k];
      const pollfd& s = fds[3 + 2 * k];
      bool alive = true;
      if (c.revents) alive = forward(c.fd, s.fd);
      if (alive && s.revents) alive = forward(s.fd, c.fd);
      if (alive) continue;
      std::lock_guard<std::mutex> lk(mu_);
      for (size_t i = 0; i < pairs_.size(); ++i)
        if (pairs_[i].client == c.fd) {
          close_pair(i);
          break;
        }
    }
  }
}

}  // namespace fcd_test
