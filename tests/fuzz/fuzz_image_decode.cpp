// libFuzzer: the image header check and decode (read_image) on arbitrary bytes. Every input
// must end in a decoded CV_8UC3 image or an ImageError, within the pixel limit, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "facecycle/core/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/fc_fuzz_image_" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  fc::ImageLimits limits;
  limits.max_pixels = 4'000'000;  // keep each run small; the check is what is under test
  try {
    fc::DecodedImage img = fc::read_image(path, limits);
    if (img.bgr.type() != CV_8UC3 || img.bgr.total() > size_t(limits.max_pixels)) __builtin_trap();
  } catch (const fc::ImageError&) {
  }
  return 0;
}
