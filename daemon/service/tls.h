// TLS for the daemon's TCP listener, and the rule that keeps bearer tokens off plain-text
// networks. The unix socket is never encrypted: it does not leave the machine.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "config.h"

namespace fcd {

// unix:PATH (and unix-abstract:) listen addresses.
bool is_unix_listen(const std::string& listen);
// TCP on 127.0.0.0/8, ::1 or "localhost": traffic that never leaves the machine. Any other host
// name counts as remote, since what it resolves to can change.
bool is_loopback_listen(const std::string& listen);

// Refuses (ConfigError, saying what to do) TCP on a non-loopback address without TLS unless
// allow_plaintext_tokens is set: every TCP request carries a token, so a plain-text listener
// there hands tokens to anyone on the network path.
void check_transport_security(const Config& cfg);

// The credentials for cfg.listen: TLS when tls_cert is set and the address is TCP, requiring
// client certificates signed by tls_client_ca when that is set; insecure otherwise. Reads and
// checks the files first, so a missing, unreadable, non-PEM, expired or mismatched file is a
// ConfigError naming its flag instead of gRPC's "cannot listen".
std::shared_ptr<grpc::ServerCredentials> listen_credentials(const Config& cfg);

}  // namespace fcd
