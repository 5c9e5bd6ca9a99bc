// UTKFace file names carry the labels: AGE_GENDER_RACE_DATETIME.jpg.chip.jpg.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fc::train {

// gender: 0 male, 1 female. race: 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others.
struct FaceRecord {
  std::string path;
  int age = 0;
  int gender = 0;
  int race = 0;
};

// Parses a file name (not a path). Rejects missing, extra or non-numeric fields, race outside
// 0..4, gender outside 0..1 and age outside 0..120. On success fills out->age/gender/race and
// leaves out->path alone.
bool parse_utkface_name(const std::string& file_name, FaceRecord* out);

struct ScanResult {
  std::vector<FaceRecord> records;              // sorted by file name
  size_t malformed = 0;                         // image files whose names do not parse
  std::vector<std::string> malformed_examples;  // the first few, for messages
};

// Lists dir (not recursive) for *.jpg / *.png files. Deterministic. Throws
// std::runtime_error when dir does not exist. No torch here (the train_config fuzzer builds
// it); scan_faces (data/packed_faces.h) also takes a face pack.
ScanResult scan_utkface(const std::string& dir);

}  // namespace fc::train
