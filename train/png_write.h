// A PNG writer with no dependencies (stored deflate blocks: larger files, no zlib), for the
// pictures of the LibTorch-only build, which has no OpenCV to encode them (docs/GPU.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace fc::train {

// Writes an 8-bit RGB image (rows of width*3 bytes, top row first) with tEXt chunks, through a
// temporary name renamed into place. Throws std::runtime_error when it cannot be written.
void write_rgb_png(const std::string& path, const uint8_t* rgb, int width, int height,
                   const std::map<std::string, std::string>& text = {});

}  // namespace fc::train
