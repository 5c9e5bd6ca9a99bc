#include "data/utkface.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

namespace fc::train {
namespace {

bool parse_int(const std::string& s, int* out) {
  if (s.empty() || s.size() > 3 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    return false;
  *out = std::stoi(s);
  return true;
}

bool is_image_name(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    if (name.size() < suffix.size()) return false;
    return std::equal(suffix.rbegin(), suffix.rend(), name.rbegin(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  };
  return ends_with(".jpg") || ends_with(".jpeg") || ends_with(".png");
}

}  // namespace

bool parse_utkface_name(const std::string& file_name, FaceRecord* out) {
  // Labels live before the first '.'; the rest is the extension(s), e.g. ".jpg.chip.jpg".
  const std::string stem = file_name.substr(0, file_name.find('.'));
  if (stem.size() == file_name.size()) return false;  // no extension at all
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t end = stem.find('_', start);
    fields.push_back(
        stem.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (fields.size() != 4) return false;
  int age = 0, gender = 0, race = 0;
  if (!parse_int(fields[0], &age) || !parse_int(fields[1], &gender) || !parse_int(fields[2], &race))
    return false;
  const std::string& datetime = fields[3];
  if (datetime.empty() || !std::all_of(datetime.begin(), datetime.end(),
                                       [](unsigned char c) { return std::isdigit(c) != 0; }))
    return false;
  if (age < 0 || age > 120 || gender < 0 || gender > 1 || race < 0 || race > 4) return false;
  out->age = age;
  out->gender = gender;
  out->race = race;
  return true;
}

ScanResult scan_utkface(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("UTKFace folder not found: " + dir +
                             " (point data.utkface_dir at the folder of *.jpg.chip.jpg files)");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (is_image_name(name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  ScanResult result;
  for (const auto& name : names) {
    FaceRecord r;
    if (parse_utkface_name(name, &r)) {
      r.path = (fs::path(dir) / name).string();
      result.records.push_back(std::move(r));
    } else {
      ++result.malformed;
      if (result.malformed_examples.size() < 5) result.malformed_examples.push_back(name);
    }
  }
  return result;
}

}  // namespace fc::train
