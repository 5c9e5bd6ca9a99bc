#include "connection.h"

#include <cstdlib>

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
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = facecycle::v1::Facecycle::NewStub(channel_);
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
    case grpc::StatusCode::UNAVAILABLE: {
      // The data dir that owns this socket, so the hint names the right --data-dir.
      std::string dir = default_data_dir();
      const std::string sock = "/facecycled.sock";
      bool unix_socket = address_.rfind("unix:", 0) == 0;
      if (unix_socket && address_.size() > sock.size() + 5 &&
          address_.compare(address_.size() - sock.size(), sock.size(), sock) == 0)
        dir = address_.substr(5, address_.size() - 5 - sock.size());
      std::string hint = unix_socket
                             ? "is it running? start it with `facecycled --data-dir " + dir + "`"
                             : "is it running and listening there? check --server";
      throw CliError("cannot reach facecycled at " + address_ + ": " + hint +
                     (msg.empty() ? "" : " (" + msg + ")"));
    }
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
