// Server reflection v1 (grpc.reflection.v1, daemon/service/reflection_v1.cpp) against the real
// daemon with a generated v1 stub, and the v1 messages checked field by field against gRPC's own
// v1alpha ones, which libgrpc++_reflection carries.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>

#include "e2e_support.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"

using namespace fce;
namespace pb = google::protobuf;
namespace v1 = grpc::reflection::v1;

namespace {

// One v1 reflection stream to the daemon: one request, its answer.
class ReflectionClient {
 public:
  explicit ReflectionClient(const std::string& server)
      : stub_(v1::ServerReflection::NewStub(
            grpc::CreateChannel(server, grpc::InsecureChannelCredentials()))),
        stream_(stub_->ServerReflectionInfo(&ctx_)) {}
  ~ReflectionClient() {
    stream_->WritesDone();
    stream_->Finish();
  }
  v1::ServerReflectionResponse ask(const v1::ServerReflectionRequest& req) {
    v1::ServerReflectionResponse resp;
    EXPECT_TRUE(stream_->Write(req));
    EXPECT_TRUE(stream_->Read(&resp));
    return resp;
  }

 private:
  std::unique_ptr<v1::ServerReflection::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::ServerReflectionRequest, v1::ServerReflectionResponse>>
      stream_;
};

std::set<std::string> file_names(const v1::ServerReflectionResponse& resp) {
  std::set<std::string> names;
  for (const auto& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
    pb::FileDescriptorProto f;
    EXPECT_TRUE(f.ParseFromString(bytes));
    names.insert(f.name());
  }
  return names;
}

TEST(ReflectionV1, ListsServicesAndServesTheirFiles) {
  TempDir tmp;
  Daemon d(tmp.path(), DaemonOptions::with(1, 0));
  d.start();
  ReflectionClient c(d.server());

  v1::ServerReflectionRequest list;
  list.set_list_services("*");
  auto resp = c.ask(list);
  ASSERT_TRUE(resp.has_list_services_response()) << resp.DebugString();
  std::set<std::string> services;
  for (const auto& s : resp.list_services_response().service()) services.insert(s.name());
  for (const char* want : {"facecycle.v1.Facecycle", "grpc.reflection.v1.ServerReflection",
                           "grpc.reflection.v1alpha.ServerReflection", "grpc.health.v1.Health"})
    EXPECT_TRUE(services.count(want)) << want << " not listed: " << resp.DebugString();
  EXPECT_EQ(resp.original_request().list_services(), "*");

  v1::ServerReflectionRequest sym;
  sym.set_file_containing_symbol("facecycle.v1.Facecycle");
  resp = c.ask(sym);
  ASSERT_TRUE(resp.has_file_descriptor_response()) << resp.DebugString();
  pb::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(resp.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.package(), "facecycle.v1");
  ASSERT_GE(file.service_size(), 1);
  EXPECT_EQ(file.service(0).name(), "Facecycle");

  // By file name; the same stream does not send a file twice.
  v1::ServerReflectionRequest by_name;
  by_name.set_file_by_filename(file.name());
  EXPECT_TRUE(file_names(c.ask(by_name)).empty());

  v1::ServerReflectionRequest missing;
  missing.set_file_containing_symbol("no.such.Symbol");
  resp = c.ask(missing);
  ASSERT_TRUE(resp.has_error_response()) << resp.DebugString();
  EXPECT_EQ(resp.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
}

// The v1 file restates the protocol; gRPC's v1alpha messages are the reference: same messages,
// fields, numbers, types, labels and oneofs, so any client of either decodes the other.
TEST(ReflectionV1, MessagesMatchGrpcsV1alphaFieldForField) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();  // links libgrpc++_reflection
  const auto* pool = pb::DescriptorPool::generated_pool();
  const auto* ours = v1::ServerReflectionRequest::descriptor()->file();
  const pb::FileDescriptor* alpha =
      pool->FindFileContainingSymbol("grpc.reflection.v1alpha.ServerReflectionRequest");
  ASSERT_NE(alpha, nullptr) << "libgrpc++_reflection's v1alpha descriptors are not loaded";
  ASSERT_EQ(ours->message_type_count(), alpha->message_type_count());
  for (int m = 0; m < alpha->message_type_count(); ++m) {
    const auto* a = alpha->message_type(m);
    const auto* o = ours->FindMessageTypeByName(a->name());
    ASSERT_NE(o, nullptr) << a->name();
    ASSERT_EQ(o->field_count(), a->field_count()) << a->name();
    for (int f = 0; f < a->field_count(); ++f) {
      const auto* af = a->field(f);
      const auto* of = o->FindFieldByNumber(af->number());
      ASSERT_NE(of, nullptr) << a->name() << " #" << af->number();
      EXPECT_EQ(of->name(), af->name()) << a->name();
      EXPECT_EQ(of->type(), af->type()) << af->full_name();
      EXPECT_EQ(of->label(), af->label()) << af->full_name();
      EXPECT_EQ(of->real_containing_oneof() ? of->real_containing_oneof()->name() : "",
                af->real_containing_oneof() ? af->real_containing_oneof()->name() : "")
          << af->full_name();
      if (af->message_type()) {
        EXPECT_EQ(of->message_type()->name(), af->message_type()->name());
      }
    }
  }
  const auto* as = alpha->FindServiceByName("ServerReflection");
  const auto* os = ours->FindServiceByName("ServerReflection");
  ASSERT_NE(as, nullptr);
  ASSERT_NE(os, nullptr);
  ASSERT_EQ(os->method_count(), 1);
  EXPECT_EQ(os->method(0)->name(), as->method(0)->name());
  EXPECT_TRUE(os->method(0)->client_streaming() && os->method(0)->server_streaming());
}

}  // namespace
