// Face packs: a whole UTKFace-style folder as one file that needs no image decoder, for hosts
// without OpenCV (docs/GPU.md). The file is safetensors (facecycle/core/safetensors.h) with
//   images  uint8 [N, H, W, 3] RGB, square faces, N in file-name order
//   labels  int32 [N, 3] (age, gender, race), as the names say
// and metadata {"format": "facecycle-faces-1", "names": JSON list of the N file names}.
// scripts/pack_utkface.py --faces writes it. A pack stands in for the folder: data.dir may name
// it, and its faces are addressed as PACK/NAME, so splits and seeds match the folder's run.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/utkface.h"

namespace fc::train {

inline constexpr const char* kFacePackFormat = "facecycle-faces-1";

struct FacePack {
  std::string path;
  torch::Tensor images;  // [N, H, W, 3] uint8 RGB
  torch::Tensor labels;  // [N, 3] int32
  std::vector<std::string> names;
  std::map<std::string, int64_t> index;  // name -> row
};

// True when path is a regular file in the face-pack format (reads only the header).
bool is_face_pack(const std::string& path);

// Reads a pack once per process and keeps it; later calls with the same path share it.
// Throws std::runtime_error naming the file when it is not a valid pack (labels that disagree
// with the names count as invalid: the names are what a folder run would parse).
std::shared_ptr<const FacePack> open_face_pack(const std::string& path);

// The pack's faces as scan_utkface lists a folder's: sorted by name, path = PACK/NAME.
ScanResult scan_face_pack(const std::string& path);

// data.dir as the trainer reads it: a face pack, else a folder (scan_utkface).
ScanResult scan_faces(const std::string& dir_or_pack);

// For PACK/NAME, the face as an [H, W, 3] uint8 RGB tensor (a view into the pack); an undefined
// tensor when the parent of path is not a face pack. Throws when the pack lacks NAME.
torch::Tensor packed_face_rgb(const std::string& path);

}  // namespace fc::train
