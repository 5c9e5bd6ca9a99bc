#include "service/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>

#include <algorithm>

namespace fcd {

namespace pb = google::protobuf;
namespace v1 = grpc::reflection::v1;

namespace {

// `file` and, depth first, the files it imports that `sent` does not hold yet: a client then has
// everything it needs to decode the file's messages, and a stream never sends a file twice.
void add_file(const pb::FileDescriptor* file, std::vector<std::string>& sent,
              v1::FileDescriptorResponse* out) {
  if (std::find(sent.begin(), sent.end(), file->name()) != sent.end()) return;
  sent.push_back(file->name());
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  out->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) add_file(file->dependency(i), sent, out);
}

void set_error(v1::ServerReflectionResponse& resp, grpc::StatusCode code, const std::string& msg) {
  resp.mutable_error_response()->set_error_code(code);
  resp.mutable_error_response()->set_error_message(msg);
}

// The file asked for by name, symbol or extension; null when the pool has none.
const pb::FileDescriptor* find_file(const v1::ServerReflectionRequest& req) {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  switch (req.message_request_case()) {
    case v1::ServerReflectionRequest::kFileByFilename:
      return pool->FindFileByName(req.file_by_filename());
    case v1::ServerReflectionRequest::kFileContainingSymbol:
      return pool->FindFileContainingSymbol(req.file_containing_symbol());
    case v1::ServerReflectionRequest::kFileContainingExtension: {
      const auto& ext = req.file_containing_extension();
      const auto* type = pool->FindMessageTypeByName(ext.containing_type());
      const auto* field =
          type ? pool->FindExtensionByNumber(type, ext.extension_number()) : nullptr;
      return field ? field->file() : nullptr;
    }
    default:
      return nullptr;
  }
}

}  // namespace

void ReflectionV1Service::set_services(std::vector<std::string> names) {
  std::lock_guard<std::mutex> lk(mu_);
  services_ = std::move(names);
}

v1::ServerReflectionResponse ReflectionV1Service::answer(const v1::ServerReflectionRequest& req,
                                                         std::vector<std::string>& sent) const {
  v1::ServerReflectionResponse resp;
  resp.set_valid_host(req.host());
  *resp.mutable_original_request() = req;
  switch (req.message_request_case()) {
    case v1::ServerReflectionRequest::kListServices: {
      std::lock_guard<std::mutex> lk(mu_);
      for (const auto& name : services_)
        resp.mutable_list_services_response()->add_service()->set_name(name);
      break;
    }
    case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* pool = pb::DescriptorPool::generated_pool();
      const auto* type = pool->FindMessageTypeByName(req.all_extension_numbers_of_type());
      if (!type) {
        set_error(resp, grpc::NOT_FOUND, "type not found");
        break;
      }
      std::vector<const pb::FieldDescriptor*> exts;
      pool->FindAllExtensions(type, &exts);
      auto* out = resp.mutable_all_extension_numbers_response();
      out->set_base_type_name(type->full_name());
      for (const auto* f : exts) out->add_extension_number(f->number());
      break;
    }
    case v1::ServerReflectionRequest::kFileByFilename:
    case v1::ServerReflectionRequest::kFileContainingSymbol:
    case v1::ServerReflectionRequest::kFileContainingExtension:
      if (const auto* file = find_file(req))
        add_file(file, sent, resp.mutable_file_descriptor_response());
      else
        set_error(resp, grpc::NOT_FOUND, "not found");
      break;
    default:
      set_error(resp, grpc::UNIMPLEMENTED, "request type not supported");
  }
  return resp;
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<v1::ServerReflectionResponse, v1::ServerReflectionRequest>* stream) {
  std::vector<std::string> sent;
  v1::ServerReflectionRequest req;
  while (stream->Read(&req))
    if (!stream->Write(answer(req, sent))) break;
  return grpc::Status::OK;
}

namespace {

// How gRPC's own v1alpha plugin hooks in: register the service when the server is made, and
// hand it the service list once every service (health, both reflections) is registered.
class ReflectionV1Plugin : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "facecycle_reflection_v1"; }
  void InitServer(grpc::ServerInitializer* si) override { si->RegisterService(service_); }
  void Finish(grpc::ServerInitializer* si) override {
    service_->set_services(*si->GetServiceList());
  }
  void ChangeArguments(const std::string&, void*) override {}
  bool has_sync_methods() const override { return true; }

 private:
  std::shared_ptr<ReflectionV1Service> service_ = std::make_shared<ReflectionV1Service>();
};

class ReflectionV1Option : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ReflectionV1Plugin>());
  }
};

}  // namespace

std::unique_ptr<grpc::ServerBuilderOption> reflection_v1_option() {
  return std::make_unique<ReflectionV1Option>();
}

}  // namespace fcd
