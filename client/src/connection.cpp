#include "connection.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace fcc {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "code " + std::to_string(static_cast<int>(code));
  }
}

// What a plain connect() to the address says, before gRPC's own retries hide it.
enum class Probe { kListening, kNoSocketFile, kRefused, kUnknown };

Probe probe_unix(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Probe::kNoSocketFile;
  sockaddr_un sa{};
  if (path.size() >= sizeof(sa.sun_path)) return Probe::kUnknown;
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Probe::kUnknown;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  int err = errno;
  ::close(fd);
  if (rc == 0) return Probe::kListening;
  // EAGAIN means the listen backlog is full: a daemon is there, only busy.
  return err == ECONNREFUSED ? Probe::kRefused : Probe::kUnknown;
}

// host:port or [v6]:port; other gRPC target forms are left to gRPC.
Probe probe_tcp(const std::string& address) {
  std::string target = address.rfind("dns:", 0) == 0 ? address.substr(4) : address;
  size_t colon = target.rfind(':');
  if (colon == std::string::npos || target.find('/') != std::string::npos) return Probe::kUnknown;
  std::string host = target.substr(0, colon), port = target.substr(colon + 1);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return Probe::kUnknown;
  Probe result = Probe::kUnknown;
  for (addrinfo* a = found; a && result != Probe::kListening; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{5, 0};  // a silently dropping firewall must not hang the CLI here
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0)
      result = Probe::kListening;
    else if (errno == ECONNREFUSED)
      result = Probe::kRefused;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return result;
}

// The data dir that owns a unix socket path, so a hint names the right --data-dir.
std::string data_dir_of(const std::string& address) {
  const std::string sock = "/facecycled.sock";
  if (address.size() > sock.size() + 5 &&
      address.compare(address.size() - sock.size(), sock.size(), sock) == 0)
    return address.substr(5, address.size() - 5 - sock.size());
  return default_data_dir();
}

}  // namespace

std::string default_data_dir() {
  std::string dir = env("FACECYCLE_DATA_DIR");
  if (!dir.empty()) return dir;
  std::string home = env("HOME");
  if (home.empty()) home = ".";
  return home + "/.local/share/facecycle";
}

std::string resolve_server(const std::string& flag) {
  if (!flag.empty()) return flag;
  std::string s = env("FACECYCLE_SERVER");
  if (!s.empty()) return s;
  return "unix:" + default_data_dir() + "/facecycled.sock";
}

std::string resolve_token(const std::string& flag) {
  return flag.empty() ? env("FACECYCLE_TOKEN") : flag;
}

Connection::Connection(const GlobalOptions& opts)
    : address_(resolve_server(opts.server)), token_(resolve_token(opts.token)) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a daemon restart instead of backing off for up to two minutes.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS stays at its default: gRPC also uses it as the timeout of
  // one connection attempt, and at 100 ms a busy daemon's SETTINGS frame came too late.
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = facecycle::v1::Facecycle::NewStub(channel_);
  wait_until_ready();
}

void Connection::wait_until_ready() const {
  const bool unix_socket = address_.rfind("unix:", 0) == 0;
  const Probe probe = unix_socket ? probe_unix(address_.substr(5)) : probe_tcp(address_);
  const std::string where = "cannot reach facecycled at " + address_ + ": ";
  const std::string start =
      unix_socket ? "start it with `facecycled --data-dir " + data_dir_of(address_) + "`"
                  : "start it there, or check --server / FACECYCLE_SERVER";
  if (probe == Probe::kNoSocketFile)
    throw CliError(where + "no daemon socket there: is it running? " + start);
  if (probe == Probe::kRefused)
    throw CliError(where + "nothing listens there (did the daemon stop?): " + start);
  // Something listens; a busy daemon may take a while to finish the HTTP/2 handshake.
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + kReadyTimeout))
    throw CliError(where + "no connection within " + std::to_string(kReadyTimeout.count()) +
                   " s although something listens there; the daemon may be overloaded: retry, "
                   "or check `facecycle health`");
}

std::unique_ptr<grpc::ClientContext> Connection::context(std::chrono::seconds deadline) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  if (deadline.count() > 0) ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  return ctx;
}

void Connection::fail(const grpc::Status& status, const std::string& what) const {
  const std::string msg = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // The daemon was there when the command started (wait_until_ready), so it went away.
      throw CliError(what + ": lost the connection to facecycled at " + address_ +
                     " (did it stop? `facecycle health` tells)" + (msg.empty() ? "" : ": " + msg));
    case grpc::StatusCode::UNAUTHENTICATED:
      throw CliError(
          what + ": not authenticated: " + msg +
          " (pass --token or set FACECYCLE_TOKEN; `facecycled token add NAME` makes one)");
    case grpc::StatusCode::PERMISSION_DENIED:
      throw CliError(what + ": permission denied: " + msg);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      throw CliError(what + ": facecycled at " + address_ + " did not answer in time");
    default:
      throw CliError(what + ": " + code_name(status.error_code()) + ": " + msg);
  }
}

}  // namespace fcc
