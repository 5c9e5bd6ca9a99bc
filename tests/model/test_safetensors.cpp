// safetensors: the version-independent weights layout model files can use (docs/GPU.md).
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "facecycle/core/safetensors.h"

namespace {
namespace fs = std::filesystem;

std::string temp_file(const std::string& name) {
  return (fs::temp_directory_path() / ("fc_st_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file laid out by hand from the spec, so the reader is checked against the format rather
// than against our own writer.
std::string spec_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((uint64_t(header.size()) >> (8 * i)));
  return out + header + data;
}

TEST(Safetensors, RoundTripKeepsOrderDtypesValuesAndMetadata) {
  const auto path = temp_file("round.safetensors");
  fc::NamedTensors in = {
      {"z.weight", torch::randn({3, 4, 2})},
      {"a.bias", torch::arange(5, torch::kInt64)},
      {"m.half", torch::randn({7}).to(torch::kBFloat16)},
      {"img", torch::randint(0, 256, {2, 3, 3}).to(torch::kUInt8)},
      {"empty", torch::zeros({0, 4})},
  };
  fc::write_safetensors(path, in, {{"format", "pt"}, {"note", "x"}});
  ASSERT_TRUE(fc::looks_like_safetensors(path));
  std::map<std::string, std::string> meta;
  const auto out = fc::read_safetensors(path, &meta);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first, in[i].first);
    EXPECT_EQ(out[i].second.scalar_type(), in[i].second.scalar_type());
    EXPECT_TRUE(torch::equal(out[i].second, in[i].second)) << in[i].first;
  }
  EXPECT_EQ(meta.at("note"), "x");
  fs::remove(path);
}

TEST(Safetensors, ReadsAFileLaidOutFromTheSpec) {
  const auto path = temp_file("spec.safetensors");
  const float values[2] = {1.5f, -2.0f};
  write_bytes(path, spec_file(R"({"x":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}})",
                              std::string(reinterpret_cast<const char*>(values), 8)));
  const auto out = fc::read_safetensors(path);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_FLOAT_EQ(out[0].second[1][0].item<float>(), -2.0f);
  fs::remove(path);
}

TEST(Safetensors, RefusesBrokenFilesWithTheReason) {
  const auto path = temp_file("bad.safetensors");
  auto message = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    try {
      fc::read_safetensors(path);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("PK\3\4zipfile").find("not a safetensors file"), std::string::npos);
  EXPECT_NE(message(spec_file(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                              std::string(8, '\0')))
                .find("larger than the file"),
            std::string::npos);
  EXPECT_NE(message(spec_file(R"({"x":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", "a"))
                .find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(message(spec_file("{not json", "")).find("bad safetensors header"), std::string::npos);
  // Offsets that disagree with a shape that does fit, and shapes checked before allocating.
  EXPECT_NE(message(spec_file(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})",
                              std::string(8, '\0')))
                .find("do not fit"),
            std::string::npos);
  EXPECT_NE(message(spec_file(R"({"x":{"dtype":"F32","shape":[1099511627776,1099511627776],)"
                              R"("data_offsets":[0,8]}})",
                              std::string(8, '\0')))
                .find("larger than the file"),
            std::string::npos);
  EXPECT_NE(message(spec_file(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
                              std::string(8, '\0')))
                .find("negative dimension"),
            std::string::npos);
  EXPECT_FALSE(fc::looks_like_safetensors(path + ".missing"));
  fs::remove(path);
}

TEST(Safetensors, ATorchArchiveIsNotMistakenForOne) {
  const auto path = temp_file("archive.pt");
  torch::serialize::OutputArchive archive;
  archive.write("w", torch::ones({2}));
  archive.save_to(path);
  EXPECT_FALSE(fc::looks_like_safetensors(path));
  fs::remove(path);
}

}  // namespace
