// image_io: metadata round trips, atomic writes, and the refusal of bad inputs with clear
// ImageErrors before they reach the decoder.
#include <facecycle/core/image_io.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "pipeline_helpers.h"

namespace {
namespace fs = std::filesystem;
using fc::ImageError;

class ImageIo : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fc::testing::temp_dir("io"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }
  static void spit(const std::string& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary);
    f << bytes;
  }
  // Expects read_image to throw an ImageError whose message contains `needle`.
  static void expect_refused(const std::string& p, const std::string& needle) {
    try {
      fc::read_image(p);
      ADD_FAILURE() << p << " was accepted";
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  fs::path dir_;
};

std::string be32(uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}
std::string png_chunk(const std::string& type, const std::string& data) {
  std::string td = type + data;
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()));
  return be32(uint32_t(data.size())) + td + be32(uint32_t(crc));
}

TEST_F(ImageIo, PngRoundTripIsLosslessAndKeepsMetadata) {
  cv::Mat img = fc::testing::smooth_photo({97, 61});
  std::map<std::string, std::string> meta = {
      {"facecycle:model", "seeded-1"}, {"facecycle:task", "age"}, {"Comment", "a b=c; ünï"}};
  fc::write_image_atomic(path("out.png"), img, "png", meta);
  auto back = fc::read_image(path("out.png"));
  EXPECT_EQ(back.format, "png");
  ASSERT_EQ(back.bgr.size(), img.size());
  EXPECT_EQ(cv::norm(back.bgr, img, cv::NORM_INF), 0.0);
  EXPECT_EQ(fc::read_image_metadata(path("out.png")), meta);
  // Other decoders accept the inserted chunks (a bad CRC makes libpng refuse the file).
  EXPECT_FALSE(cv::imread(path("out.png")).empty());
  // No temporary file is left behind.
  int files = 0;
  for (auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(ImageIo, JpegRoundTripKeepsMetadataInAComSegment) {
  cv::Mat img = fc::testing::smooth_photo({120, 80});
  std::map<std::string, std::string> meta = {{"facecycle:model", "m"}, {"note", "x\"y\\z"}};
  fc::write_image_atomic(path("out.jpg"), img, "jpg", meta);
  std::string bytes = slurp(path("out.jpg"));
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(uint8_t(bytes[2]), 0xff);
  EXPECT_EQ(uint8_t(bytes[3]), 0xfe) << "COM segment right after SOI";
  auto back = fc::read_image(path("out.jpg"));
  EXPECT_EQ(back.format, "jpg");
  // Quality 95 (with 4:2:0 chroma subsampling): a few grey levels on average.
  EXPECT_LT(cv::norm(back.bgr, img, cv::NORM_L1) / img.total() / 3, 4.0);
  EXPECT_EQ(fc::read_image_metadata(path("out.jpg")), meta);
}

TEST_F(ImageIo, OverwritesAtomicallyAndRefusesAMissingFolder) {
  cv::Mat a(10, 10, CV_8UC3, cv::Scalar(1, 2, 3)), b(10, 10, CV_8UC3, cv::Scalar(9, 8, 7));
  fc::write_image_atomic(path("x.png"), a, "png", {});
  fc::write_image_atomic(path("x.png"), b, "png", {});
  EXPECT_EQ(fc::read_image(path("x.png")).bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(9, 8, 7));
  EXPECT_THROW(fc::write_image_atomic(path("no/such/dir/x.png"), a, "png", {}), ImageError);
  EXPECT_THROW(fc::write_image_atomic(path("x.gif"), a, "gif", {}), std::invalid_argument);
}

TEST_F(ImageIo, RefusesTruncatedFiles) {
  cv::Mat img = fc::testing::smooth_photo({200, 150});
  for (std::string fmt : {"png", "jpg"}) {
    fc::write_image_atomic(path("whole." + fmt), img, fmt, {});
    std::string bytes = slurp(path("whole." + fmt));
    spit(path("cut." + fmt), bytes.substr(0, bytes.size() * 2 / 3));
    expect_refused(path("cut." + fmt), "truncated");
    // Losing just the final marker is caught too.
    spit(path("tail." + fmt), bytes.substr(0, bytes.size() - 2));
    expect_refused(path("tail." + fmt), "truncated");
  }
}

TEST_F(ImageIo, RefusesAPngDeclaringTooManyPixelsBeforeDecoding) {
  // 30000x30000 RGB in the header, no pixel data: decoding would need 2.7 GB.
  std::string ihdr = be32(30000) + be32(30000) + std::string("\x08\x02\x00\x00\x00", 5);
  spit(path("huge.png"),
       std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IEND", ""));
  expect_refused(path("huge.png"),
                 "declares 30000\xc3\x97"
                 "30000 pixels");
}

TEST_F(ImageIo, RefusesAJpegDeclaringTooManyPixels) {
  cv::Mat img(16, 16, CV_8UC3, cv::Scalar(50, 100, 150));
  fc::write_image_atomic(path("small.jpg"), img, "jpg", {});
  std::string b = slurp(path("small.jpg"));
  // Patch the SOF0 frame header's height and width to 30000.
  size_t sof = b.find("\xff\xc0", 2);
  ASSERT_NE(sof, std::string::npos);
  b[sof + 5] = char(30000 >> 8), b[sof + 6] = char(30000 & 0xff);
  b[sof + 7] = char(30000 >> 8), b[sof + 8] = char(30000 & 0xff);
  spit(path("huge.jpg"), b);
  expect_refused(path("huge.jpg"), "more than the limit");
}

TEST_F(ImageIo, ReadsBmpAndWebpAndChecksTheirDeclaredSize) {
  cv::Mat img = fc::testing::smooth_photo({40, 30});
  ASSERT_TRUE(cv::imwrite(path("a.bmp"), img));
  auto bmp = fc::read_image(path("a.bmp"));
  EXPECT_EQ(bmp.format, "bmp");
  EXPECT_EQ(cv::norm(bmp.bgr, img, cv::NORM_INF), 0.0);
  // Width and height (int32 at offsets 18 and 22) patched to 30000.
  std::string b = slurp(path("a.bmp"));
  for (size_t off : {18u, 22u}) {
    b[off] = char(30000 & 0xff), b[off + 1] = char(30000 >> 8), b[off + 2] = 0, b[off + 3] = 0;
  }
  spit(path("huge.bmp"), b);
  expect_refused(path("huge.bmp"), "declares 30000");

  std::vector<unsigned char> webp;
  if (!cv::imencode(".webp", img, webp, {cv::IMWRITE_WEBP_QUALITY, 101}))
    GTEST_SKIP() << "this OpenCV cannot encode WEBP";
  spit(path("a.webp"), std::string(webp.begin(), webp.end()));
  auto w = fc::read_image(path("a.webp"));
  EXPECT_EQ(w.format, "webp");
  EXPECT_EQ(w.bgr.size(), img.size());
  fc::ImageLimits small;
  small.max_pixels = 40 * 30 - 1;
  EXPECT_THROW(fc::read_image(path("a.webp"), small), ImageError);
}

// A TIFF header with one IFD of (tag, type, value) entries, count 1 each; 3 = SHORT, 4 = LONG.
std::string tiff(bool little_endian, const std::vector<std::array<uint32_t, 3>>& entries) {
  auto u16 = [&](uint32_t v) {
    return little_endian ? std::string{char(v & 0xff), char(v >> 8)}
                         : std::string{char(v >> 8), char(v & 0xff)};
  };
  auto u32 = [&](uint32_t v) {
    return little_endian ? u16(v & 0xffff) + u16(v >> 16) : u16(v >> 16) + u16(v & 0xffff);
  };
  std::string t = little_endian ? std::string("II*\0", 4) : std::string("MM\0*", 4);
  t += u32(8) + u16(uint32_t(entries.size()));
  for (const auto& [tag, type, value] : entries)
    t += u16(tag) + u16(type) + u32(1) + (type == 3 ? u16(value) + u16(0) : u32(value));
  t += u32(0);
  return t + std::string(2048, '\x78');  // "compressed" strip data
}

// The issue-12 bomb: a small TIFF declaring 30000x30000 was decoded in full (2.7 GB) before the
// size check. Its header is now read first, in both byte orders and both integer types.
TEST_F(ImageIo, RefusesATiffDeclaringTooManyPixelsBeforeDecoding) {
  cv::Mat img = fc::testing::smooth_photo({40, 30});
  ASSERT_TRUE(cv::imwrite(path("a.tif"), img));
  auto ok = fc::read_image(path("a.tif"));
  EXPECT_EQ(ok.format, "tiff");
  EXPECT_EQ(ok.bgr.size(), img.size());
  fc::ImageLimits small;
  small.max_pixels = 40 * 30 - 1;
  try {
    fc::read_image(path("a.tif"), small);
    ADD_FAILURE() << "limit ignored";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("declares 40\xc3\x97"
                                         "30 pixels"),
              std::string::npos)
        << e.what();
  }
  // Width, length, bits, compression (deflate), photometric, strip offset, samples, rows/strip.
  for (bool le : {true, false}) {
    for (uint32_t type : {3u, 4u}) {
      spit(path("bomb.tif"), tiff(le, {{256, type, 30000},
                                       {257, type, 30000},
                                       {258, 3, 8},
                                       {259, 3, 8},
                                       {262, 3, 2},
                                       {273, 4, 100},
                                       {277, 3, 3},
                                       {278, type, 30000}}));
      expect_refused(path("bomb.tif"),
                     "declares 30000\xc3\x97"
                     "30000 pixels");
    }
  }
  // 32-bit sizes whose product overflows 64 bits (fuzz_image_decode found it wrapping negative).
  spit(path("huge.tif"), tiff(true, {{256, 4, 0xFFFFFFFFu},
                                     {257, 4, 0xFFFFFFFFu},
                                     {258, 3, 8},
                                     {262, 3, 1},
                                     {273, 4, 100},
                                     {277, 3, 1},
                                     {278, 4, 1}}));
  expect_refused(path("huge.tif"),
                 "declares 4294967295\xc3\x97"
                 "4294967295 pixels");
  spit(path("nosize.tif"), tiff(true, {{258, 3, 8}, {273, 4, 100}}));
  expect_refused(path("nosize.tif"), "damaged or unsupported tiff header");
}

// Re-run of the issue-12 attack: a TIFF naming ImageWidth twice (30000, then 100) passed the
// header check, which kept the last, and libtiff, which keeps the first, decoded 900 M pixels
// (4.5 GB). A size tag that repeats, or that is not a single SHORT or LONG, is refused.
TEST_F(ImageIo, RefusesATiffWhoseSizeTagsRepeatOrHaveOddTypes) {
  fc::ImageLimits limits;
  limits.max_pixels = 1'000'000;
  auto refused = [&](const std::vector<std::array<uint32_t, 3>>& size_entries) {
    auto entries = size_entries;
    entries.insert(entries.end(), {{258, 3, 8}, {259, 3, 1}, {262, 3, 1}, {273, 4, 8}});
    spit(path("dup.tif"), tiff(true, entries));
    try {
      fc::read_image(path("dup.tif"), limits);
      ADD_FAILURE() << "accepted";
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find("damaged or unsupported tiff header"), std::string::npos)
          << e.what();
    }
  };
  refused({{256, 4, 3000}, {256, 3, 10}, {257, 4, 3000}});
  refused({{256, 3, 10}, {257, 4, 3000}, {257, 3, 10}});
  refused({{256, 16, 3000}, {257, 4, 10}});  // LONG8: libtiff reads it, the check did not
}

// Within the pixel limit, deep samples multiplied the decode: a 10000x10000 PNG of 16-bit RGBA
// (under 1 MB) decodes to 800 MB before conversion, a 64-bit 4-sample TIFF to 3.2 GB (it
// allocated that much and then failed). The header's sample depth now counts against a limit
// on decoded bytes.
TEST_F(ImageIo, RefusesDeepSamplesThatWouldDecodeToTooManyBytes) {
  fc::ImageLimits limits;
  limits.max_pixels = 1'000'000;
  limits.max_decoded_bytes = 4'000'000;
  cv::imwrite(path("rgba8.png"), cv::Mat(800, 800, CV_8UC4, cv::Scalar(1, 2, 3, 255)));
  EXPECT_EQ(fc::read_image(path("rgba8.png"), limits).bgr.size(), cv::Size(800, 800));
  cv::imwrite(path("rgba16.png"), cv::Mat(800, 800, CV_16UC4, cv::Scalar(1, 2, 3, 65535)));
  try {
    fc::read_image(path("rgba16.png"), limits);
    ADD_FAILURE() << "a 16-bit RGBA PNG of 5.1 MB decoded was accepted";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("pixels of 8 bytes each"), std::string::npos) << e.what();
  }
  spit(path("deep.tif"), tiff(true, {{256, 4, 800},
                                     {257, 4, 800},
                                     {258, 3, 64},
                                     {259, 3, 8},
                                     {262, 3, 2},
                                     {273, 4, 8},
                                     {277, 3, 4},
                                     {339, 3, 3}}));
  try {
    fc::read_image(path("deep.tif"), limits);
    ADD_FAILURE() << "a 64-bit RGBA TIFF was accepted";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("pixels of 32 bytes each"), std::string::npos) << e.what();
  }
}

TEST_F(ImageIo, RefusesAPnmDeclaringTooManyPixelsBeforeDecoding) {
  cv::Mat img = fc::testing::smooth_photo({40, 30});
  ASSERT_TRUE(cv::imwrite(path("a.ppm"), img));
  EXPECT_EQ(fc::read_image(path("a.ppm")).bgr.size(), img.size());
  spit(path("bomb.ppm"), "P6\n# a comment 1 2\n30000\n30000 255\n" + std::string(4096, 'x'));
  expect_refused(path("bomb.ppm"),
                 "declares 30000\xc3\x97"
                 "30000 pixels");
  spit(path("bad.pgm"), "P5\nwide high\n255\n");
  expect_refused(path("bad.pgm"), "damaged or unsupported pnm header");
}

TEST_F(ImageIo, RefusesNonImagesEmptyAndMissingFilesAndOversizedFiles) {
  spit(path("notes.png"), "hello, this is text\n");
  expect_refused(path("notes.png"), "not an image: expected a PNG, JPEG");
  // Issue 12 re-run: the refusal named the first 8 bytes, and "53 51 4c 69 74 65 20 66" told a
  // user that another user's file was a SQLite database.
  spit(path("data.png"), std::string("SQLite format 3\0", 16) + std::string(100, '\0'));
  try {
    fc::read_image(path("data.png"));
    FAIL() << "a database decoded";
  } catch (const ImageError& e) {
    EXPECT_EQ(std::string(e.what()).find("53 51"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("bytes"), std::string::npos) << e.what();
  }
  spit(path("empty.jpg"), "");
  expect_refused(path("empty.jpg"), "empty");
  expect_refused(path("missing.jpg"), "cannot read");
  fc::write_image_atomic(path("ok.png"), fc::testing::smooth_photo({64, 64}), "png", {});
  fc::ImageLimits tiny;
  tiny.max_file_bytes = 100;
  EXPECT_THROW(fc::read_image(path("ok.png"), tiny), ImageError);
}

TEST_F(ImageIo, ConvertsGreySixteenBitAndAlphaToBgr8) {
  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(77));
  cv::imwrite(path("grey.png"), grey);
  auto g = fc::read_image(path("grey.png")).bgr;
  ASSERT_EQ(g.type(), CV_8UC3);
  EXPECT_EQ(g.at<cv::Vec3b>(3, 3), cv::Vec3b(77, 77, 77));

  cv::Mat deep(8, 8, CV_16UC3, cv::Scalar(257 * 10, 257 * 128, 65535));
  cv::imwrite(path("deep.png"), deep);
  auto d = fc::read_image(path("deep.png")).bgr;
  ASSERT_EQ(d.type(), CV_8UC3);
  EXPECT_EQ(d.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 128, 255));

  // Alpha is composited over white: transparent -> white, opaque -> the colour.
  cv::Mat rgba(2, 3, CV_8UC4);
  rgba.at<cv::Vec4b>(0, 0) = {0, 0, 200, 255};
  rgba.at<cv::Vec4b>(0, 1) = {0, 0, 200, 0};
  rgba.at<cv::Vec4b>(0, 2) = {0, 0, 200, 128};
  rgba.row(1).setTo(cv::Scalar(10, 20, 30, 255));
  cv::imwrite(path("alpha.png"), rgba);
  auto a = fc::read_image(path("alpha.png")).bgr;
  ASSERT_EQ(a.type(), CV_8UC3);
  EXPECT_EQ(a.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 200));
  EXPECT_EQ(a.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 255));
  cv::Vec3b half = a.at<cv::Vec3b>(0, 2);
  EXPECT_NEAR(half[0], 127, 2);
  EXPECT_NEAR(half[2], 227, 2);

  cv::Mat grey_alpha(4, 4, CV_16UC4, cv::Scalar(0, 0, 65535, 65535));
  cv::imwrite(path("alpha16.png"), grey_alpha);
  EXPECT_EQ(fc::read_image(path("alpha16.png")).bgr.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 255));
}

TEST_F(ImageIo, OutputFormatAndName) {
  EXPECT_EQ(fc::output_format("same", "jpg"), "jpg");
  EXPECT_EQ(fc::output_format("same", "png"), "png");
  EXPECT_EQ(fc::output_format("same", "bmp"), "png");  // lossless stays lossless
  EXPECT_EQ(fc::output_format("jpg", "png"), "jpg");
  EXPECT_THROW(fc::output_format("gif", "png"), std::invalid_argument);
  EXPECT_EQ(fc::output_file_name("/in/party.photo.JPEG", "png"), "party.photo.png");
  EXPECT_EQ(fc::output_file_name("face", "jpg"), "face.jpg");
}

TEST_F(ImageIo, BeforeAfterSheetHasOneLabelledRowPerPair) {
  cv::Mat red(100, 50, CV_8UC3, cv::Scalar(0, 0, 255)),
      blue(100, 50, CV_8UC3, cv::Scalar(255, 0, 0));
  cv::Mat sheet = fc::make_before_after_sheet({{red, blue}, {blue, red}}, 64);
  ASSERT_EQ(sheet.type(), CV_8UC3);
  EXPECT_GT(sheet.rows, 2 * 64);
  EXPECT_LT(sheet.rows, 2 * 64 + 80);
  EXPECT_GT(sheet.cols, 2 * 32);
  // Both colours appear, each image kept at aspect (32 x 64 cells).
  cv::Mat is_red, is_blue;
  cv::inRange(sheet, cv::Scalar(0, 0, 250), cv::Scalar(5, 5, 255), is_red);
  cv::inRange(sheet, cv::Scalar(250, 0, 0), cv::Scalar(255, 5, 5), is_blue);
  EXPECT_NEAR(cv::countNonZero(is_red), 2 * 32 * 64, 2 * 64);
  EXPECT_NEAR(cv::countNonZero(is_blue), 2 * 32 * 64, 2 * 64);
  EXPECT_TRUE(fc::make_before_after_sheet({}).empty());
}

namespace {

// kB of the process's peak resident set since the last reset_peak_rss(); -1 if unreadable.
long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
bool reset_peak_rss() { return bool(std::ofstream("/proc/self/clear_refs") << "5"); }

}  // namespace

// Issue 12 re-run: alpha was composited in float (convert, split, mul, merge), about 50 bytes a
// pixel: 1.2 GB for a 5000x5000 RGBA PNG, 5 GB at the pixel limit. Now about 7 (in and out).
TEST_F(ImageIo, AnRgbaImageDecodesInAboutItsOwnSize) {
  cv::Mat rgba(4000, 4000, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  ASSERT_TRUE(cv::imwrite(path("big.png"), rgba, {cv::IMWRITE_PNG_COMPRESSION, 1}));
  rgba.release();
  if (!reset_peak_rss() || peak_rss_kb() < 0) GTEST_SKIP() << "cannot reset or read VmHWM";
  const long before = peak_rss_kb();
  auto img = fc::read_image(path("big.png"));
  const long grew_mb = (peak_rss_kb() - before) / 1024;
  EXPECT_EQ(img.bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(132, 137, 142));
  EXPECT_LT(grew_mb, 16 * 20) << "MB for 16 M pixels";
}

// The default limit keeps an item's worst case near 1.2 GB (23 bytes a pixel, measured).
TEST_F(ImageIo, TheDefaultPixelLimitRefusesAbout50MegapixelsFromTheHeader) {
  EXPECT_LE(fc::ImageLimits{}.max_pixels, 50'000'000);
  cv::Mat small = fc::testing::smooth_photo({64, 48});
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", small, png));
  auto declare = [&](uint32_t w, uint32_t h) {  // IHDR width and height, big-endian
    for (int i = 0; i < 4; ++i) {
      png[16 + i] = uchar(w >> (24 - 8 * i));
      png[20 + i] = uchar(h >> (24 - 8 * i));
    }
    spit(path("declared.png"), std::string(png.begin(), png.end()));
  };
  declare(8000, 7000);  // 56 MP
  expect_refused(path("declared.png"), "more than the limit of 50000000");
  declare(8000, 6000);  // a 48 MP phone photo's size passes the limit (this one is damaged after)
  try {
    fc::read_image(path("declared.png"));
  } catch (const ImageError& e) {
    EXPECT_EQ(std::string(e.what()).find("more than the limit"), std::string::npos) << e.what();
  }
}

}  // namespace
