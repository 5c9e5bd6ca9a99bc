#include "connection.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "facecycle/core/loopback.h"

namespace fcc {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool env_flag(const char* name) {
  const std::string v = env(name);
  return v == "1" || v == "true" || v == "yes";
}

// `what` names the flag and its variable, so the message says where the path came from.
std::string read_pem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError(what + " " + path + ": cannot read it: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find("-----BEGIN ") == std::string::npos)
    throw CliError(what + " " + path + ": not a PEM file (no -----BEGIN line)");
  return ss.str();
}

// Debian's ca-certificates bundle; gRPC's own default when it is absent.
constexpr const char* kSystemRoots = "/etc/ssl/certs/ca-certificates.crt";

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

GlobalOptions resolve_tls(GlobalOptions o) {
  if (o.tls_ca.empty()) o.tls_ca = env("FACECYCLE_TLS_CA");
  if (o.tls_cert.empty()) o.tls_cert = env("FACECYCLE_TLS_CERT");
  if (o.tls_key.empty()) o.tls_key = env("FACECYCLE_TLS_KEY");
  o.tls = o.tls || env_flag("FACECYCLE_TLS") || !o.tls_ca.empty() || !o.tls_cert.empty() ||
          !o.tls_key.empty();
  o.allow_plaintext_tokens =
      o.allow_plaintext_tokens || env_flag("FACECYCLE_ALLOW_PLAINTEXT_TOKENS");
  return o;
}

std::shared_ptr<grpc::ChannelCredentials> Connection::credentials(const GlobalOptions& o) const {
  if (!tls_) return grpc::InsecureChannelCredentials();
  if (o.tls_cert.empty() != o.tls_key.empty())
    throw CliError("--tls-cert and --tls-key go together: a client certificate and its key",
                   kExitUsage);
  grpc::SslCredentialsOptions ssl;
  if (!o.tls_ca.empty())
    ssl.pem_root_certs = read_pem("--tls-ca (FACECYCLE_TLS_CA)", o.tls_ca);
  else if (std::ifstream(kSystemRoots))
    ssl.pem_root_certs = read_pem("the system's CA bundle", kSystemRoots);
  if (!o.tls_cert.empty()) {
    ssl.pem_cert_chain = read_pem("--tls-cert (FACECYCLE_TLS_CERT)", o.tls_cert);
    ssl.pem_private_key = read_pem("--tls-key (FACECYCLE_TLS_KEY)", o.tls_key);
  }
  return grpc::SslCredentials(ssl);
}

Connection::Connection(const GlobalOptions& given)
    : address_(resolve_server(given.server)), token_(resolve_token(given.token)) {
  const GlobalOptions opts = resolve_tls(given);
  const bool unix_socket = address_.rfind("unix", 0) == 0;
  tls_ = opts.tls && !unix_socket;  // the socket never leaves the machine
  // Checked before connecting, so a token never reaches the wire unencrypted.
  if (!tls_ && !unix_socket && !token_.empty() && !opts.allow_plaintext_tokens &&
      !fc::is_loopback_address(address_))
    throw CliError("refusing to send your token in plain text to " + address_ +
                   ", which is not this machine: anyone on the network path could read and "
                   "reuse it. Pass --tls-ca FILE (the CA that signed the daemon's certificate) "
                   "or --tls (the system's CAs); on a network you trust, "
                   "--allow-plaintext-tokens (FACECYCLE_ALLOW_PLAINTEXT_TOKENS=1)");
  grpc::ChannelArguments args;
  // Reconnect quickly after a daemon restart instead of backing off for up to two minutes.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS stays at its default: gRPC also uses it as the timeout of
  // one connection attempt, and at 100 ms a busy daemon's SETTINGS frame came too late.
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(address_, credentials(opts), args);
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
  // Something listens; a busy daemon may take a while to finish the HTTP/2 handshake. A refused
  // handshake (TLS on one side only, an untrusted certificate) fails at once and again on each
  // retry: over TCP that is reported at once rather than after the whole timeout.
  const auto deadline = std::chrono::system_clock::now() + kReadyTimeout;
  for (auto state = channel_->GetState(true); state != GRPC_CHANNEL_READY;
       state = channel_->GetState(true)) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE && !unix_socket) {
      const std::string why = connect_error();
      if (!why.empty())
        throw CliError(where + why +
                       (tls_ ? " (TLS: does --tls-ca name the CA that signed the daemon's "
                               "certificate, does that certificate name this host, and does "
                               "the daemon want a client certificate, --tls-cert/--tls-key?)"
                             : " (if the daemon uses TLS, pass --tls-ca FILE or --tls)"));
    }
    if (!channel_->WaitForStateChange(state, deadline))
      throw CliError(where + "no connection within " + std::to_string(kReadyTimeout.count()) +
                     " s although something listens there; the daemon may be overloaded: "
                     "retry, or check `facecycle health`");
  }
}

std::string Connection::connect_error() const {
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(false);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  facecycle::v1::VersionInfo info;
  const auto status = stub_->GetVersion(&ctx, facecycle::v1::GetVersionRequest(), &info);
  // Any other answer means the connection works now (and the command will say the rest).
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ? status.error_message()
                                                              : std::string();
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
