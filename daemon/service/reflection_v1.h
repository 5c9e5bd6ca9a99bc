// grpc.reflection.v1.ServerReflection, which current grpcurl, Postman and grpcui ask for before
// v1alpha. Debian bookworm's gRPC (1.51) ships only v1alpha, so this serves v1 from the same
// place v1alpha does: the generated DescriptorPool (list_services, file_by_filename,
// file_containing_symbol, file_containing_extension, all_extension_numbers_of_type).
#pragma once

#include <grpcpp/impl/server_builder_option.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace fcd {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

  // The fully qualified names list_services answers with.
  void set_services(std::vector<std::string> names);

  // One answer, without a stream; `sent` holds the files this stream already sent.
  grpc::reflection::v1::ServerReflectionResponse answer(
      const grpc::reflection::v1::ServerReflectionRequest& request,
      std::vector<std::string>& sent) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> services_;
};

// Registers a v1 reflection service with the server a ServerBuilder builds and, once every
// service is registered, tells it their names: builder.SetOption(reflection_v1_option()).
std::unique_ptr<grpc::ServerBuilderOption> reflection_v1_option();

}  // namespace fcd
