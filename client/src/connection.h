// Where the daemon is, how to reach it, and how failures become one-line messages.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "facecycle/v1/facecycle.grpc.pb.h"

namespace fcc {

// Exit codes users' scripts rely on.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,     // could not do what was asked (daemon unreachable, refused, bad input)
  kExitUsage = 2,     // bad command line
  kExitJobNotOk = 3,  // the job ended, but failed, was cancelled or has failed items
};

// A failure with the one-line reason printed after "facecycle: ".
struct CliError : std::runtime_error {
  explicit CliError(const std::string& msg, int code = kExitError)
      : std::runtime_error(msg), exit_code(code) {}
  int exit_code;
};

struct GlobalOptions {
  std::string server;  // empty: resolved from the environment
  std::string token;
  bool json = false;
  // TLS to a TCP daemon (empty/false: from the environment, see resolve_tls). tls alone trusts
  // the system's CAs; tls_ca trusts that CA instead; tls_cert/tls_key are a client certificate.
  bool tls = false;
  std::string tls_ca, tls_cert, tls_key;
  bool allow_plaintext_tokens = false;
};

// GlobalOptions' TLS fields after the environment: $FACECYCLE_TLS_CA, $FACECYCLE_TLS_CERT,
// $FACECYCLE_TLS_KEY fill those left empty; $FACECYCLE_TLS=1 and
// $FACECYCLE_ALLOW_PLAINTEXT_TOKENS=1 set the flags. TLS is on when any of them asks for it.
GlobalOptions resolve_tls(GlobalOptions opts);

// $FACECYCLE_DATA_DIR, else ~/.local/share/facecycle (the daemon's rule).
std::string default_data_dir();
// --server, else $FACECYCLE_SERVER, else unix:<data dir>/facecycled.sock.
std::string resolve_server(const std::string& flag);
// --token, else $FACECYCLE_TOKEN, else empty.
std::string resolve_token(const std::string& flag);

class Connection {
 public:
  explicit Connection(const GlobalOptions& opts);

  const std::string& address() const { return address_; }
  facecycle::v1::Facecycle::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context carrying the bearer token; a deadline unless `deadline` is zero (streams).
  std::unique_ptr<grpc::ClientContext> context(
      std::chrono::seconds deadline = std::chrono::seconds(30)) const;

  // Throws CliError with a message that says what to do.
  [[noreturn]] void fail(const grpc::Status& status, const std::string& what) const;
  void check(const grpc::Status& status, const std::string& what) const {
    if (!status.ok()) fail(status, what);
  }

 private:
  static constexpr std::chrono::seconds kReadyTimeout{20};
  // Fails fast when nothing listens at the address; waits for a listening but busy daemon.
  void wait_until_ready() const;

  std::shared_ptr<grpc::ChannelCredentials> credentials(const GlobalOptions& opts) const;
  // Why the last connection attempt failed, asked of gRPC with one RPC that does not wait.
  std::string connect_error() const;

  std::string address_;
  std::string token_;
  bool tls_ = false;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<facecycle::v1::Facecycle::Stub> stub_;
};

}  // namespace fcc
