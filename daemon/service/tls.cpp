#include "service/tls.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "facecycle/core/loopback.h"

namespace fcd {

namespace {

namespace fs = std::filesystem;

// Certificates and keys are a few KB; a bigger file is a wrong path, not a PEM bundle.
constexpr std::uintmax_t kMaxPemBytes = 1 << 20;

const char* const kWhatToDo =
    "add --tls-cert FILE --tls-key FILE (tls_cert, tls_key in the config) so tokens travel "
    "encrypted, or listen on 127.0.0.1 / a unix socket; on a network you trust, "
    "--allow-plaintext-tokens (allow_plaintext_tokens = true) accepts the risk";

// "--tls-cert (tls_cert)": the flag and the config key, as either may have set it.
std::string setting(const std::string& key) {
  std::string flag = key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return "--" + flag + " (" + key + ")";
}

[[noreturn]] void refuse(const std::string& key, const std::string& path, const std::string& why) {
  throw ConfigError(setting(key) + " " + path + ": " + why);
}

std::string read_pem(const std::string& key, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) refuse(key, path, "no such file");
  if (!fs::is_regular_file(path, ec)) refuse(key, path, "not a file");
  if (fs::file_size(path, ec) > kMaxPemBytes) refuse(key, path, "larger than 1 MiB: not PEM");
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(key, path, std::string("cannot read it: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find("-----BEGIN ") == std::string::npos)
    refuse(key, path, "not PEM (no -----BEGIN line)");
  return ss.str();
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Bio bio_of(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// OpenSSL's default would prompt on the terminal for an encrypted key; a daemon cannot answer.
int no_passphrase(char*, int, int, void*) { return -1; }

Cert first_cert(const std::string& key, const std::string& path, const std::string& pem) {
  auto bio = bio_of(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) refuse(key, path, "holds no PEM certificate");
  return cert;
}

// gRPC would only say it cannot listen, or fail each handshake; these name the file instead.
void check_cert_and_key(const Config& c, const std::string& cert_pem, const std::string& key_pem) {
  Cert cert = first_cert("tls_cert", c.tls_cert, cert_pem);
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0)
    refuse("tls_cert", c.tls_cert, "the certificate has expired");
  auto bio = bio_of(key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  ERR_clear_error();
  if (!pkey) refuse("tls_key", c.tls_key, "holds no unencrypted PEM private key");
  if (X509_check_private_key(cert.get(), pkey.get()) != 1) {
    ERR_clear_error();
    refuse("tls_key", c.tls_key, "does not match the certificate in " + c.tls_cert);
  }
}

}  // namespace

bool is_unix_listen(const std::string& listen) { return listen.rfind("unix", 0) == 0; }

bool is_loopback_listen(const std::string& listen) {
  return !is_unix_listen(listen) && fc::is_loopback_address(listen);
}

void check_transport_security(const Config& cfg) {
  if (is_unix_listen(cfg.listen) || is_loopback_listen(cfg.listen) || !cfg.tls_cert.empty()) return;
  if (cfg.allow_plaintext_tokens) {
    spdlog::warn(
        "listening on {} without TLS: tokens cross the network in plain text "
        "(allow_plaintext_tokens is set)",
        cfg.listen);
    return;
  }
  throw ConfigError("refusing to listen on " + cfg.listen +
                    " without TLS: it is not a loopback address, and every TCP client sends its "
                    "token there, readable by anyone on the network path; " +
                    kWhatToDo);
}

std::shared_ptr<grpc::ServerCredentials> listen_credentials(const Config& cfg) {
  if (!cfg.tls_key.empty() && cfg.tls_cert.empty())
    throw ConfigError(setting("tls_key") + " needs " + setting("tls_cert") + " too");
  if (!cfg.tls_client_ca.empty() && cfg.tls_cert.empty())
    throw ConfigError(setting("tls_client_ca") + " needs " + setting("tls_cert") + " and " +
                      setting("tls_key") + ": client certificates are checked only over TLS");
  if (cfg.tls_cert.empty()) return grpc::InsecureServerCredentials();
  if (cfg.tls_key.empty())
    throw ConfigError(setting("tls_cert") + " needs " + setting("tls_key") +
                      " too: the private key of that certificate");
  const std::string cert_pem = read_pem("tls_cert", cfg.tls_cert);
  const std::string key_pem = read_pem("tls_key", cfg.tls_key);
  check_cert_and_key(cfg, cert_pem, key_pem);
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  opts.pem_key_cert_pairs.push_back({key_pem, cert_pem});
  if (!cfg.tls_client_ca.empty()) {
    opts.pem_root_certs = read_pem("tls_client_ca", cfg.tls_client_ca);
    first_cert("tls_client_ca", cfg.tls_client_ca, opts.pem_root_certs);
    opts.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  if (is_unix_listen(cfg.listen)) {
    spdlog::warn("{} is a unix socket: TLS is for TCP listeners, so {} is not used", cfg.listen,
                 setting("tls_cert"));
    return grpc::InsecureServerCredentials();
  }
  return grpc::SslServerCredentials(opts);
}

}  // namespace fcd
