// Safe image reading and atomic writing (OpenCV only).
#pragma once

#include <map>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>

namespace fc {

// A user-facing problem with one image: unreadable, not an image, truncated, too large.
struct ImageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ImageLimits {
  long long max_file_bytes = 256LL << 20;  // 256 MiB
  // Checked against the header before decoding. The daemon's pipeline peaks at about 23 bytes a
  // pixel (a face filling the frame; 10 for a typical photo), so an item at this limit takes
  // about 1.2 GB on top of the daemon (docs/SECURITY.md). 48 MP phone photos pass.
  long long max_pixels = 50'000'000;
  // Also from the header: deep samples (16-bit PNG, 64-bit TIFF) multiply what a pixel takes.
  long long max_decoded_bytes = 400'000'000;  // max_pixels of 16-bit BGRA
};

struct DecodedImage {
  cv::Mat bgr;         // always CV_8UC3: grey, 16-bit and alpha inputs are converted
  std::string format;  // "png", "jpg", "bmp", "webp", "tiff", ...
};

// Checks size and the declared dimensions in the header before decoding. Throws ImageError.
DecodedImage read_image(const std::string& path, const ImageLimits& limits = {});

// "png" | "jpg" for an output request of "png" | "jpg" | "same" given the input's format.
std::string output_format(const std::string& requested, const std::string& input_format);
// The output file name: the input's name with its extension changed to match `format`.
std::string output_file_name(const std::string& input_path, const std::string& format);

// Encodes (PNG lossless, JPEG quality 95), embeds metadata (PNG tEXt chunks, a JPEG COM
// segment), writes to a temporary name in the same folder, fsyncs and renames into place.
void write_image_atomic(const std::string& path, const cv::Mat& bgr, const std::string& format,
                        const std::map<std::string, std::string>& metadata);

// Reads back what write_image_atomic embedded (for tests and `facecycle show`).
std::map<std::string, std::string> read_image_metadata(const std::string& path);

// A before/after sheet: one row per pair, each image scaled to fit `cell` pixels high.
cv::Mat make_before_after_sheet(const std::vector<std::pair<cv::Mat, cv::Mat>>& pairs,
                                int cell = 256);

}  // namespace fc
