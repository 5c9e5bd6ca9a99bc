// TLS on the daemon's TCP listener, with certificates the tests make with the openssl CLI: the
// real service behind fcd::listen_credentials, reached by the CLI's own fcc::Connection.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "connection.h"
#include "service/auth.h"
#include "service/grpc_service.h"
#include "service/tls.h"
#include "store/migrations.h"
#include "store/sqlite_job_store.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
namespace pb = facecycle::v1;

int sh(const std::string& cmd) {
  int st = std::system(("(" + cmd + ") >/dev/null 2>&1").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// A CA, a server certificate for localhost and 127.0.0.1, a client certificate, and an
// unrelated CA; once for the suite (a few ms with EC keys). Empty when openssl is missing.
std::string make_certificates(const std::string& dir) {
  if (sh("command -v openssl") != 0) return "";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  auto ca = [&](const std::string& name) {
    return "openssl req -x509" + ec + "-keyout " + name + ".key -out " + name +
           ".pem -days 2 -subj /CN=" + name;
  };
  auto leaf = [&](const std::string& name, const std::string& ext) {
    std::ofstream(dir + "/" + name + ".ext") << ext << "\n";
    return "openssl req" + ec + "-keyout " + name + ".key -out " + name + ".csr -subj /CN=" + name +
           " && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key " +
           "-CAcreateserial -days 2 -out " + name + ".pem -extfile " + name + ".ext";
  };
  const std::string cmd =
      "cd '" + dir + "' && " + ca("ca") + " && " + ca("other-ca") + " && " +
      leaf("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth") +
      " && " + leaf("client", "extendedKeyUsage=clientAuth");
  if (sh(cmd) != 0) return "";
  return dir;
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_dir_ = new fcd_test::TempDir;
    certs_ = make_certificates(certs_dir_->path());
  }
  static void TearDownTestSuite() { delete certs_dir_; }

  void SetUp() override {
    if (certs_.empty()) GTEST_SKIP() << "the openssl CLI is missing or failed: no certificates";
    cfg_.data_dir = tmp_ / "data";
    fs::create_directories(cfg_.data_dir);
    cfg_.tls_cert = cert("server.pem");
    cfg_.tls_key = cert("server.key");
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  static std::string cert(const std::string& name) { return certs_ + "/" + name; }

  // The service, no workers, on 127.0.0.1 with the credentials facecycled would use.
  void start() {
    cfg_.listen = "127.0.0.1:0";
    fcd::finalize_config(cfg_);
    db_ = std::make_unique<fcd::Database>(cfg_.data_dir + "/facecycle.db");
    fcd::apply_migrations(*db_);
    queue_ = std::make_unique<fcd::SqliteJobStore>(*db_);
    auth_ = std::make_unique<fcd::Auth>(*db_);
    token_ = auth_->add_token("alice", false);
    plugins_ = std::make_unique<fcd::PluginHost>(cfg_.plugin_tables);
    models_ = std::make_unique<fcd::ModelRegistry>(*db_, std::vector<std::string>{tmp_ / "models"},
                                                   nullptr);
    roots_.set_data_dir(cfg_.data_dir);
    service_ = std::make_unique<fcd::FacecycleService>(
        fcd::ServiceDeps{cfg_, *queue_, *auth_, *plugins_, *models_, roots_});
    grpc::ServerBuilder b;
    b.AddListeningPort(cfg_.listen, fcd::listen_credentials(cfg_), &port_);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_);
  }

  fcc::GlobalOptions client(const std::string& host = "localhost") const {
    fcc::GlobalOptions o;
    o.server = host + ":" + std::to_string(port_);
    o.token = token_;
    o.tls_ca = cert("ca.pem");
    return o;
  }

  // ListJobs needs the token, so an OK is the daemon's answer to an authenticated user.
  static grpc::Status list_jobs(const fcc::GlobalOptions& o) {
    fcc::Connection conn(o);
    pb::ListJobsRequest req;
    pb::ListJobsResponse resp;
    return conn.stub().ListJobs(conn.context().get(), req, &resp);
  }

  // The CLI's message, or "" when it connected.
  static std::string connect_failure(const fcc::GlobalOptions& o) {
    try {
      fcc::Connection conn(o);
      return "";
    } catch (const fcc::CliError& e) {
      return e.what();
    }
  }

  static fcd_test::TempDir* certs_dir_;
  static std::string certs_;
  fcd_test::TempDir tmp_;
  fcd::Config cfg_;
  std::unique_ptr<fcd::Database> db_;
  std::unique_ptr<fcd::SqliteJobStore> queue_;
  std::unique_ptr<fcd::Auth> auth_;
  std::unique_ptr<fcd::PluginHost> plugins_;
  std::unique_ptr<fcd::ModelRegistry> models_;
  fcd::AllowedRoots roots_;
  std::unique_ptr<fcd::FacecycleService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string token_;
  int port_ = 0;
};

fcd_test::TempDir* Tls::certs_dir_ = nullptr;
std::string Tls::certs_;

TEST_F(Tls, AClientTrustingTheCaGetsARealAnswerByNameAndByAddress) {
  start();
  for (const char* host : {"localhost", "127.0.0.1"}) {
    auto s = list_jobs(client(host));
    EXPECT_TRUE(s.ok()) << host << ": " << s.error_message();
  }
  // The same channel without the token is still refused: TLS adds to the token, not replaces it.
  auto o = client();
  o.token.clear();
  EXPECT_EQ(list_jobs(o).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(Tls, APlainTextClientOnTheTlsPortFailsAndIsToldAboutTls) {
  start();
  auto o = client();
  o.tls_ca.clear();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string why = connect_failure(o);
  EXPECT_NE(why.find("--tls-ca"), std::string::npos) << why;
  // Reported at once, not after the 20 s a busy daemon is given.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  // Below the CLI too: a bare insecure channel gets no answer.
  auto stub = pb::Facecycle::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                         grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  pb::VersionInfo info;
  EXPECT_FALSE(stub->GetVersion(&ctx, pb::GetVersionRequest(), &info).ok());
}

TEST_F(Tls, AClientTrustingAnotherCaIsRefused) {
  start();
  auto o = client();
  o.tls_ca = cert("other-ca.pem");
  const std::string why = connect_failure(o);
  EXPECT_NE(why.find("TLS"), std::string::npos) << why;
  EXPECT_NE(why.find("localhost:" + std::to_string(port_)), std::string::npos) << why;
  // And with the system's CAs, which never signed a test CA's certificate.
  o.tls_ca.clear();
  o.tls = true;
  EXPECT_NE(connect_failure(o), "");
}

TEST_F(Tls, WithAClientCaOnlyClientsWithASignedCertificateGetIn) {
  cfg_.tls_client_ca = cert("ca.pem");
  start();
  auto o = client();
  EXPECT_NE(connect_failure(o), "") << "a client without a certificate got in";
  o.tls_cert = cert("client.pem");
  o.tls_key = cert("client.key");
  auto s = list_jobs(o);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(Tls, AClientCertificateFromAnotherCaIsRefused) {
  cfg_.tls_client_ca = cert("other-ca.pem");
  start();
  auto o = client();
  o.tls_cert = cert("client.pem");  // signed by ca.pem, not other-ca.pem
  o.tls_key = cert("client.key");
  EXPECT_NE(connect_failure(o), "");
}

TEST_F(Tls, BadFilesAreRefusedNamingTheFlag) {
  auto refusal = [&](fcd::Config c) -> std::string {
    try {
      fcd::listen_credentials(c);
      return "";
    } catch (const fcd::ConfigError& e) {
      return e.what();
    }
  };
  cfg_.listen = "0.0.0.0:7000";
  auto c = cfg_;
  c.tls_key.clear();
  EXPECT_NE(refusal(c).find("--tls-cert (tls_cert) needs --tls-key"), std::string::npos);
  c = cfg_;
  c.tls_cert = tmp_ / "missing.pem";
  EXPECT_NE(refusal(c).find("--tls-cert (tls_cert) " + c.tls_cert + ": no such file"),
            std::string::npos)
      << refusal(c);
  c = cfg_;
  c.tls_key = cert("client.key");  // a key, but not the certificate's
  EXPECT_NE(refusal(c).find("--tls-key (tls_key)"), std::string::npos) << refusal(c);
  EXPECT_NE(refusal(c).find("does not match"), std::string::npos) << refusal(c);
  c = cfg_;
  c.tls_cert = cert("server.key");  // PEM, but no certificate in it
  EXPECT_NE(refusal(c).find("holds no PEM certificate"), std::string::npos) << refusal(c);
  c = cfg_;
  c.tls_client_ca = tmp_ / "data";  // a folder
  EXPECT_NE(refusal(c).find("--tls-client-ca (tls_client_ca)"), std::string::npos);
  c = cfg_;
  c.tls_cert.clear();
  c.tls_key.clear();
  c.tls_client_ca = cert("ca.pem");
  EXPECT_NE(refusal(c).find("needs --tls-cert"), std::string::npos) << refusal(c);
  EXPECT_EQ(refusal(cfg_), "");
}

TEST(TlsConfig, KeysAreReadAndUnknownOnesStillRefused) {
  auto c = fcd::parse_config(
      "tls_cert = \"/etc/fc/server.pem\"\ntls_key = \"/etc/fc/server.key\"\n"
      "tls_client_ca = \"/etc/fc/ca.pem\"\nallow_plaintext_tokens = true\n",
      "t.toml");
  EXPECT_EQ(c.tls_cert, "/etc/fc/server.pem");
  EXPECT_EQ(c.tls_key, "/etc/fc/server.key");
  EXPECT_EQ(c.tls_client_ca, "/etc/fc/ca.pem");
  EXPECT_TRUE(c.allow_plaintext_tokens);
  EXPECT_FALSE(fcd::Config{}.allow_plaintext_tokens);
  try {
    fcd::parse_config("tls_certificate = \"x\"\n", "t.toml");
    FAIL() << "an unknown key was accepted";
  } catch (const fcd::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'tls_certificate'"), std::string::npos);
  }
  EXPECT_THROW(fcd::parse_config("allow_plaintext_tokens = \"yes\"\n", "t.toml"), fcd::ConfigError);
}

TEST(TlsConfig, PlainTextTcpOffLoopbackIsRefusedUnlessExplicitlyAllowed) {
  fcd::Config c;
  for (const char* remote : {"0.0.0.0:7000", "192.168.1.5:7000", "[::]:7000", "fc.example:7000",
                             ":7000", "ipv4:10.0.0.1:7000"}) {
    c.listen = remote;
    EXPECT_FALSE(fcd::is_loopback_listen(remote)) << remote;
    try {
      fcd::check_transport_security(c);
      ADD_FAILURE() << remote << " was allowed without TLS";
    } catch (const fcd::ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("--tls-cert FILE --tls-key FILE"), std::string::npos) << m;
      EXPECT_NE(m.find("allow_plaintext_tokens = true"), std::string::npos) << m;
    }
  }
  c.listen = "0.0.0.0:7000";
  c.allow_plaintext_tokens = true;
  EXPECT_NO_THROW(fcd::check_transport_security(c));
  c.allow_plaintext_tokens = false;
  c.tls_cert = "server.pem";
  EXPECT_NO_THROW(fcd::check_transport_security(c));
  c.tls_cert.clear();
  for (const char* local : {"127.0.0.1:7000", "127.1.2.3:7000", "localhost:7000", "LocalHost:7000",
                            "[::1]:7000", "unix:/tmp/fc.sock"}) {
    c.listen = local;
    EXPECT_NO_THROW(fcd::check_transport_security(c)) << local;
  }
}

TEST(TlsConfig, TheDaemonRefusesToStartPlainTextOffLoopback) {
  fcd_test::TempDir dir;
  const std::string cmd = std::string(FC_BINARY_DIR) + "/bin/facecycled --data-dir " + dir.path() +
                          " --listen 0.0.0.0:0 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = ::pclose(p);
  EXPECT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 2) << out;
  EXPECT_NE(out.find("refusing to listen on 0.0.0.0:0 without TLS"), std::string::npos) << out;
}

TEST(TlsClient, ATokenIsNotSentInPlainTextToAnotherHost) {
  fcc::GlobalOptions o;
  o.server = "fc.invalid:7000";  // never resolves: an allowed attempt fails on the name instead
  o.token = "fc_secret";
  auto failure = [&] {
    try {
      fcc::Connection conn(o);
      return std::string();
    } catch (const fcc::CliError& e) {
      return std::string(e.what());
    }
  };
  const std::string refused = "refusing to send your token in plain text";
  EXPECT_NE(failure().find(refused), std::string::npos) << failure();
  EXPECT_NE(failure().find("--tls-ca FILE"), std::string::npos);
  o.allow_plaintext_tokens = true;
  EXPECT_EQ(failure().find(refused), std::string::npos) << failure();
  o.allow_plaintext_tokens = false;
  ::setenv("FACECYCLE_ALLOW_PLAINTEXT_TOKENS", "1", 1);
  EXPECT_EQ(failure().find(refused), std::string::npos) << failure();
  ::unsetenv("FACECYCLE_ALLOW_PLAINTEXT_TOKENS");
  o.token.clear();  // nothing secret to send
  EXPECT_EQ(failure().find(refused), std::string::npos) << failure();
}

}  // namespace
