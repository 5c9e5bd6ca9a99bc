// Safe image reading and atomic writing with embedded metadata (OpenCV + zlib only).
//
// Reading refuses what would hurt the daemon before decoding it: oversized files, non-images
// and headers that declare more pixels than the limit (a 100-byte PNG can claim 30000x30000).
// Decoded images are normalised to CV_8UC3 BGR:
//   - grey -> BGR; 16-bit -> 8-bit (divide by 257);
//   - alpha is composited over WHITE (transparent regions of logos/cut-outs look as in a
//     viewer on a white page) and then dropped: the pipeline works on opaque BGR.
// JPEG is decoded with its EXIF orientation applied (IMREAD_COLOR), so the output is upright as
// viewers show the input; the output carries no EXIF, so it would otherwise appear rotated.
// Every other format is decoded with IMREAD_UNCHANGED so depth and alpha are handled here.
#include "facecycle/core/image_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

namespace fc {
namespace {

using Bytes = std::vector<unsigned char>;

// Prefix of the JPEG COM segment that holds our metadata as JSON.
constexpr const char* kJpegComPrefix = "facecycle-metadata:";

uint32_t be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint16_t be16(const unsigned char* p) { return uint16_t((p[0] << 8) | p[1]); }
int32_t le32(const unsigned char* p) {
  return int32_t(uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
                 (uint32_t(p[3]) << 24));
}
uint32_t le24(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16);
}

Bytes read_whole_file(const std::string& path, long long max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ImageError("cannot read " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ImageError("cannot read " + path + ": not a regular file");
  if (st.st_size == 0) throw ImageError(path + " is empty (0 bytes), not an image");
  if (st.st_size > max_bytes)
    throw ImageError(path + " is " + std::to_string(st.st_size) +
                     " bytes, more than the limit of " + std::to_string(max_bytes) +
                     " bytes — downscale or recompress it first");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ImageError("cannot open " + path + ": " + std::strerror(errno));
  Bytes data(static_cast<size_t>(st.st_size));
  f.read(reinterpret_cast<char*>(data.data()), st.st_size);
  if (f.gcount() != st.st_size) throw ImageError("cannot read all of " + path);
  return data;
}

bool starts_with(const Bytes& b, const char* magic, size_t n, size_t offset = 0) {
  return b.size() >= offset + n && std::memcmp(b.data() + offset, magic, n) == 0;
}

// The format from magic bytes, or "" for anything that is not an image we know.
std::string sniff_format(const Bytes& b) {
  if (starts_with(b, "\x89PNG\r\n\x1a\n", 8)) return "png";
  if (starts_with(b, "\xff\xd8\xff", 3)) return "jpg";
  if (starts_with(b, "BM", 2) && b.size() >= 26) return "bmp";
  if (starts_with(b, "RIFF", 4) && starts_with(b, "WEBP", 4, 8)) return "webp";
  if (starts_with(b, "II*\0", 4) || starts_with(b, "MM\0*", 4)) return "tiff";
  if (b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6') return "pnm";
  if (starts_with(b, "GIF8", 4)) return "gif";
  return "";
}

struct Size64 {
  long long w = -1, h = -1;  // -1: unknown from the header
  // What one decoded pixel may take. Within the pixel limit a 16-bit RGBA PNG of under 1 MB
  // decoded to 800 MB and a 64-bit TIFF to 3.2 GB, so formats with deep samples say how deep;
  // 4 covers 8-bit BGRA.
  long long bytes_per_pixel = 4;
};

// At least 4 channels, since decoders may expand grey or palette data to BGRA.
long long decoded_bytes_per_pixel(long long channels, long long bits_per_sample) {
  return std::max(channels, 4LL) * std::max((bits_per_sample + 7) / 8, 1LL);
}

// PNG: IHDR is always the first chunk.
Size64 png_size(const Bytes& b) {
  if (b.size() < 26 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) return {};
  return {be32(b.data() + 16), be32(b.data() + 20), decoded_bytes_per_pixel(4, b[24])};
}

// JPEG: walk the marker segments up to the first SOFn. Returns the offset of the first SOS in
// *sos_at (or 0) so truncation can be judged after the headers.
Size64 jpeg_size(const Bytes& b, size_t* sos_at) {
  Size64 s;
  *sos_at = 0;
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xff) return s;
    unsigned char m = b[i + 1];
    if (m == 0xff) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01) {  // no length
      i += 2;
      continue;
    }
    size_t len = be16(b.data() + i + 2);
    if (m == 0xda) {
      *sos_at = i;
      return s;
    }
    bool sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
    if (sof && i + 9 <= b.size() && s.w < 0) {
      s.h = be16(b.data() + i + 5);
      s.w = be16(b.data() + i + 7);
    }
    i += 2 + len;
  }
  return s;
}

Size64 bmp_size(const Bytes& b) {
  int32_t header = le32(b.data() + 14);
  if (header == 12) return {int(b[18] | (b[19] << 8)), int(b[20] | (b[21] << 8))};
  return {std::llabs(le32(b.data() + 18)), std::llabs(le32(b.data() + 22))};
}

// WEBP: VP8 (lossy), VP8L (lossless) or VP8X (extended) as the first chunk.
Size64 webp_size(const Bytes& b) {
  if (b.size() < 30) return {};
  const unsigned char* c = b.data() + 12;
  if (std::memcmp(c, "VP8X", 4) == 0) return {le24(c + 12) + 1LL, le24(c + 15) + 1LL};
  if (std::memcmp(c, "VP8L", 4) == 0) {
    uint32_t v =
        uint32_t(c[9]) | (uint32_t(c[10]) << 8) | (uint32_t(c[11]) << 16) | (uint32_t(c[12]) << 24);
    return {(v & 0x3fff) + 1LL, ((v >> 14) & 0x3fff) + 1LL};
  }
  if (std::memcmp(c, "VP8 ", 4) == 0)
    return {(c[14] | (c[15] << 8)) & 0x3fff, (c[16] | (c[17] << 8)) & 0x3fff};
  return {};
}

// TIFF: ImageWidth (256) and ImageLength (257) in the first IFD, the image OpenCV decodes, and
// BitsPerSample (258) and SamplesPerPixel (277) for the decoded size. A size tag that repeats,
// or whose type or count libtiff might read differently, makes the header unreadable: libtiff
// keeps the first of two ImageWidths, and reading the last let a TIFF naming 30000 then 100
// decode 900 M pixels. BigTIFF ("II+") is not sniffed as TIFF, so 4-byte offsets suffice.
Size64 tiff_size(const Bytes& b) {
  if (b.size() < 8) return {};
  const bool le = b[0] == 'I';
  auto u16 = [&](size_t at) -> uint32_t {
    return le ? uint32_t(b[at] | (b[at + 1] << 8)) : be16(b.data() + at);
  };
  auto u32 = [&](size_t at) -> uint32_t {
    return le ? uint32_t(le32(b.data() + at)) : be32(b.data() + at);
  };
  const size_t ifd = u32(4);
  if (ifd < 8 || ifd + 2 > b.size()) return {};
  const size_t n = u16(ifd);
  // The first SHORT or LONG of an entry (inline, or at its offset when it does not fit), or
  // `unknown` for anything else: a guess can only refuse, never let through.
  auto first = [&](size_t e, long long unknown) -> long long {
    const uint32_t type = u16(e + 2), count = u32(e + 4);
    if ((type != 3 && type != 4) || count == 0) return unknown;
    const size_t at = uint64_t(count) * (type == 3 ? 2 : 4) <= 4 ? e + 8 : u32(e + 8);
    if (at + 4 > b.size()) return unknown;
    return type == 3 ? u16(at) : u32(at);
  };
  Size64 s;
  long long bits = 1, samples = 1;
  for (size_t i = 0; i < n && ifd + 2 + 12 * (i + 1) <= b.size(); ++i) {
    const size_t e = ifd + 2 + 12 * i;
    const uint32_t tag = u16(e), type = u16(e + 2), count = u32(e + 4);
    if (tag == 258) bits = std::max(bits, first(e, 64));
    if (tag == 277) samples = std::max(samples, first(e, 65535));
    if (tag != 256 && tag != 257) continue;
    long long& v = tag == 256 ? s.w : s.h;
    if (v >= 0 || count != 1 || (type != 3 && type != 4)) return {};
    v = type == 3 ? u16(e + 8) : u32(e + 8);  // SHORT or LONG
  }
  if (s.w < 0 || s.h < 0) return {};
  s.bytes_per_pixel = decoded_bytes_per_pixel(samples, bits);
  return s;
}

// PNM (P1-P6): magic, then width and height as ASCII numbers; '#' starts a comment.
Size64 pnm_size(const Bytes& b) {
  size_t i = 2;
  long long v[2] = {-1, -1};
  for (long long& out : v) {
    while (i < b.size() && (std::isspace(b[i]) || b[i] == '#')) {
      if (b[i] == '#')
        while (i < b.size() && b[i] != '\n') ++i;
      else
        ++i;
    }
    if (i >= b.size() || !std::isdigit(b[i])) return {};
    out = 0;
    for (; i < b.size() && std::isdigit(b[i]); ++i) {
      out = out * 10 + (b[i] - '0');
      if (out > (1LL << 40)) return {out, out};  // absurd: report it as huge
    }
  }
  return {v[0], v[1]};
}

// PNG is complete when its chunks chain, each whole, up to IEND.
bool png_complete(const Bytes& b) {
  size_t i = 8;
  while (i + 12 <= b.size()) {
    size_t len = be32(b.data() + i);
    if (std::memcmp(b.data() + i + 4, "IEND", 4) == 0) return true;
    if (len > b.size() || i + 12 + len > b.size()) return false;
    i += 12 + len;
  }
  return false;
}

// JPEG is complete when an EOI marker follows the first scan. Entropy-coded data cannot hold
// FF D9 (FF bytes are stuffed), and EOIs of embedded thumbnails sit before the first SOS.
bool jpeg_complete(const Bytes& b, size_t sos_at) {
  if (sos_at == 0) return false;
  for (size_t i = b.size() - 1; i > sos_at; --i)
    if (b[i] == 0xd9 && b[i - 1] == 0xff) return true;
  return false;
}

bool bmp_complete(const Bytes& b) {
  long long declared = le32(b.data() + 2);
  return declared <= 0 || static_cast<long long>(b.size()) >= declared;
}

std::string pixels_text(long long w, long long h) {
  return std::to_string(w) + "\xc3\x97" + std::to_string(h);  // U+00D7 multiplication sign
}

// Grey, 16-bit and alpha -> CV_8UC3 BGR (alpha composited over white).
// Alpha over white in 8-bit integers, a row at a time: the float version (convert, split, mul,
// merge) took about 50 bytes a pixel, 5 GB for an RGBA PNG at the pixel limit; this allocates
// only its 3-byte output.
cv::Mat composite_over_white(const cv::Mat& bgra) {
  cv::Mat out(bgra.size(), CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    const auto* in = bgra.ptr<cv::Vec4b>(y);
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgra.cols; ++x) {
      const int a = in[x][3];
      for (int c = 0; c < 3; ++c) o[x][c] = uchar((in[x][c] * a + 255 * (255 - a) + 127) / 255);
    }
  }
  return out;
}

cv::Mat to_bgr8(const cv::Mat& in) {
  cv::Mat m = in;
  if (m.depth() == CV_16U) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  } else if (m.depth() == CV_32F || m.depth() == CV_64F) {
    double lo, hi;
    cv::minMaxLoc(m.reshape(1), &lo, &hi);
    m.convertTo(m, CV_8U, hi <= 1.0 ? 255.0 : 1.0);
  } else if (m.depth() != CV_8U) {
    m.convertTo(m, CV_8U);
  }
  cv::Mat out;
  switch (m.channels()) {
    case 1:
      cv::cvtColor(m, out, cv::COLOR_GRAY2BGR);
      return out;
    case 3:
      return m;
    case 4:
      return composite_over_white(m);
    case 2: {  // grey + alpha
      std::vector<cv::Mat> ch;
      cv::split(m, ch);
      cv::Mat bgra;
      cv::merge(std::vector<cv::Mat>{ch[0], ch[0], ch[0], ch[1]}, bgra);
      return to_bgr8(bgra);
    }
    default:
      throw ImageError("unsupported channel count " + std::to_string(m.channels()));
  }
}

// ---- metadata embedding ----

void put_be32(Bytes& out, uint32_t v) {
  out.push_back(v >> 24);
  out.push_back((v >> 16) & 0xff);
  out.push_back((v >> 8) & 0xff);
  out.push_back(v & 0xff);
}

Bytes png_text_chunk(const std::string& key, const std::string& value) {
  if (key.empty() || key.size() > 79 || key.find('\0') != std::string::npos)
    throw std::invalid_argument("PNG metadata key '" + key +
                                "' must be 1-79 characters without NUL");
  if (value.find('\0') != std::string::npos)
    throw std::invalid_argument("PNG metadata value for '" + key + "' contains a NUL byte");
  Bytes body(key.begin(), key.end());
  body.push_back(0);
  body.insert(body.end(), value.begin(), value.end());
  Bytes chunk;
  put_be32(chunk, static_cast<uint32_t>(body.size()));
  const char type[4] = {'t', 'E', 'X', 't'};
  chunk.insert(chunk.end(), type, type + 4);
  chunk.insert(chunk.end(), body.begin(), body.end());
  // The CRC covers the chunk type and data, not the length.
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, chunk.data() + 4, static_cast<uInt>(4 + body.size()));
  put_be32(chunk, static_cast<uint32_t>(crc));
  return chunk;
}

void embed_png(Bytes& png, const std::map<std::string, std::string>& meta) {
  constexpr size_t kAfterIhdr = 8 + 12 + 13;  // signature + IHDR chunk
  Bytes extra;
  for (const auto& [k, v] : meta) {
    Bytes c = png_text_chunk(k, v);
    extra.insert(extra.end(), c.begin(), c.end());
  }
  png.insert(png.begin() + kAfterIhdr, extra.begin(), extra.end());
}

void embed_jpeg(Bytes& jpg, const std::map<std::string, std::string>& meta) {
  if (meta.empty()) return;
  nlohmann::json j(meta);
  // Invalid UTF-8 in a value is replaced rather than failing the whole write.
  std::string text = std::string(kJpegComPrefix) +
                     j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() + 2 > 0xffff)
    throw std::invalid_argument("JPEG metadata is " + std::to_string(text.size()) +
                                " bytes; a COM segment holds at most 65533");
  Bytes seg = {0xff, 0xfe};
  uint16_t len = static_cast<uint16_t>(text.size() + 2);
  seg.push_back(len >> 8);
  seg.push_back(len & 0xff);
  seg.insert(seg.end(), text.begin(), text.end());
  jpg.insert(jpg.begin() + 2, seg.begin(), seg.end());  // right after SOI
}

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, const Bytes& data, const std::string& tmp) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ImageError("cannot write " + tmp + ": " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
}

std::pair<std::string, std::string> split_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

DecodedImage read_image(const std::string& path, const ImageLimits& limits) {
  Bytes data = read_whole_file(path, limits.max_file_bytes);
  std::string format = sniff_format(data);
  if (format.empty())
    // Not a byte of the file in the text: the daemon reads for users who may not read the file
    // itself, and a file's first bytes name what it is (a database, a key).
    throw ImageError(path + " is not an image: expected a PNG, JPEG, BMP, WEBP, TIFF or PNM file");
  if (format == "gif")
    throw ImageError(path + " is a GIF, which is not supported — convert it to PNG first");

  Size64 declared;
  size_t sos_at = 0;
  if (format == "png") declared = png_size(data);
  if (format == "jpg") declared = jpeg_size(data, &sos_at);
  if (format == "bmp") declared = bmp_size(data);
  if (format == "webp") declared = webp_size(data);
  if (format == "tiff") declared = tiff_size(data);
  if (format == "pnm") declared = pnm_size(data);
  // Divided, not multiplied: two 32-bit header sizes overflow a 64-bit product (found by
  // fuzz_image_decode), which wrapped negative and passed the check.
  auto too_many = [&](long long w, long long h) { return w > 0 && h > limits.max_pixels / w; };
  auto too_large_error = [&](long long w, long long h) {
    return ImageError(path + " declares " + pixels_text(w, h) + " pixels, more than the limit of " +
                      std::to_string(limits.max_pixels) + " — downscale it first");
  };
  if (declared.w >= 0 && too_many(declared.w, declared.h))
    throw too_large_error(declared.w, declared.h);
  if (declared.w > 0 &&
      declared.h > limits.max_decoded_bytes / declared.bytes_per_pixel / declared.w)
    throw ImageError(path + " declares " + pixels_text(declared.w, declared.h) + " pixels of " +
                     std::to_string(declared.bytes_per_pixel) + " bytes each once decoded, " +
                     "more than the limit of " + std::to_string(limits.max_decoded_bytes) +
                     " bytes — convert it to 8 bits per sample or downscale it first");
  // Every accepted format's header is parsed: decoding a size we have not checked is how a
  // 2.6 MB TIFF declaring 30000x30000 took gigabytes.
  if (declared.w <= 0 || declared.h <= 0)
    throw ImageError(path + " has a damaged or unsupported " + format +
                     " header (no image size found)");

  bool complete = true;
  if (format == "png") complete = png_complete(data);
  if (format == "jpg") complete = jpeg_complete(data, sos_at);
  if (format == "bmp") complete = bmp_complete(data);
  if (!complete)
    throw ImageError(path + " is truncated (the " + format +
                     " data ends early) — the file was cut off while copying or downloading");

  int flags = format == "jpg" ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
  cv::Mat raw;
  try {
    raw = cv::imdecode(data, flags);
  } catch (const cv::Exception& e) {
    throw ImageError("cannot decode " + path + " as " + format + ": " + e.what());
  }
  if (raw.empty())
    throw ImageError("cannot decode " + path + " as " + format + " (corrupt or unsupported)");
  // A second line of defence, should a decoder disagree with the header we parsed.
  if (too_many(raw.cols, raw.rows)) throw too_large_error(raw.cols, raw.rows);
  return {to_bgr8(raw), format};
}

std::string output_format(const std::string& requested, const std::string& input_format) {
  if (requested == "png") return "png";
  if (requested == "jpg" || requested == "jpeg") return "jpg";
  if (requested == "same" || requested.empty()) {
    // Lossy stays lossy; everything else becomes lossless PNG.
    return (input_format == "jpg" || input_format == "jpeg") ? "jpg" : "png";
  }
  throw std::invalid_argument("unknown output format '" + requested + "' (use png, jpg or same)");
}

// The file name only (no folder): the caller places it in the output folder.
std::string output_file_name(const std::string& input_path, const std::string& format) {
  std::string name = split_dir(input_path).second;
  auto dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.erase(dot);
  return name + "." + (format == "jpeg" ? std::string("jpg") : format);
}

void write_image_atomic(const std::string& path, const cv::Mat& bgr, const std::string& format,
                        const std::map<std::string, std::string>& metadata) {
  if (bgr.empty()) throw ImageError("refusing to write an empty image to " + path);
  std::string fmt = format == "jpeg" ? "jpg" : format;
  if (fmt != "png" && fmt != "jpg")
    throw std::invalid_argument("cannot write format '" + format + "' (use png or jpg)");
  Bytes data;
  std::vector<int> params;
  if (fmt == "jpg") params = {cv::IMWRITE_JPEG_QUALITY, 95};
  if (fmt == "png") params = {cv::IMWRITE_PNG_COMPRESSION, 3};
  if (!cv::imencode("." + fmt, bgr, data, params))
    throw ImageError("cannot encode the image for " + path + " as " + fmt);
  if (fmt == "png")
    embed_png(data, metadata);
  else
    embed_jpeg(data, metadata);

  auto [dir, name] = split_dir(path);
  std::random_device rd;
  std::string tmp = dir + "/." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(std::uniform_int_distribution<uint64_t>()(rd) % 1000000000ULL);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw ImageError("cannot create " + tmp + ": " + errno_text());
  try {
    write_all(fd, data, tmp);
    if (::fsync(fd) != 0) throw ImageError("cannot fsync " + tmp + ": " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    std::string err = errno_text();
    ::unlink(tmp.c_str());
    throw ImageError("cannot close " + tmp + ": " + err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errno_text();
    ::unlink(tmp.c_str());
    throw ImageError("cannot rename " + tmp + " to " + path + ": " + err);
  }
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::map<std::string, std::string> read_image_metadata(const std::string& path) {
  Bytes b = read_whole_file(path, ImageLimits{}.max_file_bytes);
  std::map<std::string, std::string> out;
  std::string fmt = sniff_format(b);
  if (fmt == "png") {
    size_t i = 8;
    while (i + 12 <= b.size()) {
      size_t len = be32(b.data() + i);
      if (i + 12 + len > b.size()) break;
      const unsigned char* type = b.data() + i + 4;
      if (std::memcmp(type, "IEND", 4) == 0) break;
      if (std::memcmp(type, "tEXt", 4) == 0) {
        std::string body(reinterpret_cast<const char*>(b.data() + i + 8), len);
        auto nul = body.find('\0');
        if (nul != std::string::npos) out[body.substr(0, nul)] = body.substr(nul + 1);
      }
      i += 12 + len;
    }
  } else if (fmt == "jpg") {
    size_t i = 2;
    const size_t prefix = std::strlen(kJpegComPrefix);
    while (i + 4 <= b.size() && b[i] == 0xff) {
      unsigned char m = b[i + 1];
      if (m == 0xda || m == 0xd9) break;
      size_t len = be16(b.data() + i + 2);
      if (i + 2 + len > b.size()) break;
      if (m == 0xfe && len >= 2 + prefix) {
        std::string text(reinterpret_cast<const char*>(b.data() + i + 4), len - 2);
        if (text.compare(0, prefix, kJpegComPrefix) == 0) {
          auto j = nlohmann::json::parse(text.substr(prefix), nullptr, false);
          if (j.is_object())
            for (auto& [k, v] : j.items())
              if (v.is_string()) out[k] = v.get<std::string>();
        }
      }
      i += 2 + len;
    }
  } else {
    throw ImageError(path + " is not a PNG or JPEG, so it holds no facecycle metadata");
  }
  return out;
}

cv::Mat make_before_after_sheet(const std::vector<std::pair<cv::Mat, cv::Mat>>& pairs, int cell) {
  if (pairs.empty()) return {};
  if (cell < 16) throw std::invalid_argument("sheet cell height must be at least 16 pixels");
  constexpr int kLabel = 22, kGap = 6;
  const cv::Scalar kBackground(40, 40, 40), kText(235, 235, 235);

  auto fit = [&](const cv::Mat& m) {
    cv::Mat bgr = m.channels() == 3 && m.depth() == CV_8U ? m : to_bgr8(m);
    if (bgr.empty()) return cv::Mat(cell, cell, CV_8UC3, kBackground);
    int w = std::max(1, static_cast<int>(std::lround(bgr.cols * double(cell) / bgr.rows)));
    cv::Mat out;
    cv::resize(bgr, out, {w, cell}, 0, 0, cv::INTER_AREA);
    return out;
  };
  std::vector<std::pair<cv::Mat, cv::Mat>> fitted;
  int col_w = 0;
  for (const auto& [before, after] : pairs) {
    fitted.emplace_back(fit(before), fit(after));
    col_w = std::max({col_w, fitted.back().first.cols, fitted.back().second.cols});
  }
  const int row_h = kLabel + cell + kGap;
  cv::Mat sheet(kGap + row_h * int(fitted.size()), kGap + 2 * (col_w + kGap), CV_8UC3, kBackground);
  for (size_t r = 0; r < fitted.size(); ++r) {
    int y = kGap + int(r) * row_h;
    const cv::Mat* imgs[2] = {&fitted[r].first, &fitted[r].second};
    const char* labels[2] = {"before", "after"};
    for (int c = 0; c < 2; ++c) {
      int x = kGap + c * (col_w + kGap);
      cv::putText(sheet, labels[c], {x + 2, y + kLabel - 6}, cv::FONT_HERSHEY_SIMPLEX, 0.55, kText,
                  1, cv::LINE_AA);
      int xo = x + (col_w - imgs[c]->cols) / 2;
      imgs[c]->copyTo(sheet(cv::Rect(xo, y + kLabel, imgs[c]->cols, imgs[c]->rows)));
    }
  }
  return sheet;
}

}  // namespace fc
