// Procedural faces with known attributes (OpenCV only): test fixtures, paired ground truth
// (one identity rendered with other attributes) and a dataset for the CI learning test.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

namespace fc {

// Everything about a face that stays fixed when its attributes change.
struct SyntheticIdentity {
  float face_width = 0.62f;              // fraction of the image width
  float face_height = 0.80f;             // fraction of the image height
  float eye_spacing = 0.36f;             // between eye centres, fraction of face width
  float eye_size = 0.05f;                // eye radius, fraction of the image
  float nose_length = 0.12f;             // fraction of the image
  float mouth_width = 0.30f;             // fraction of face width
  float mouth_y = 0.70f;                 // mouth height, fraction of the image
  int hair_style = 0;                    // 0 short, 1 long, 2 side parting, 3 receding
  int gender = 0;                        // 0 male, 1 female (long hair more likely, lips)
  cv::Scalar hair_colour{30, 45, 70};    // BGR of young hair
  cv::Scalar background{200, 200, 200};  // BGR
  cv::Scalar eye_colour{80, 60, 40};     // BGR iris
  float pose_dx = 0, pose_dy = 0;        // small translation, fraction of the image
  float pose_angle = 0;                  // small roll in degrees (eyes stay near level)
};

struct SyntheticAttributes {
  float age = 0;   // 0 young .. 1 old: wrinkles (lines on forehead/cheeks), grey hair
  float skin = 0;  // 0 light .. 1 dark skin tone
};

// A random identity; the same seed always gives the same identity.
SyntheticIdentity random_identity(uint64_t seed);

// BGR CV_8UC3, size x size, framed like a UTKFace chip (face centred, eyes level at ~40% of
// the height, the same margin). Deterministic: same inputs, same pixels.
cv::Mat render_face(const SyntheticIdentity& identity, const SyntheticAttributes& attributes,
                    int size = 200);

// Writes n faces named AGE_GENDER_RACE_DATETIME.jpg.chip.jpg: age 20-29 (young) or 50-59 (old)
// and race 0 (light) or 1 (dark), drawn independently, plus 3 files with malformed names.
// Creates dir if needed. Deterministic in seed.
void write_synthetic_utkface(const std::string& dir, int n, uint64_t seed, int size = 200);

// Attribute meters that read an image directly (any size, BGR CV_8UC3, framed as above).
// Mean skin darkness in the cheek regions: 0 light .. 1 dark.
float measure_skin_tone(const cv::Mat& bgr);
// Hair greyness (low saturation, brightness) plus wrinkle-line energy on forehead and cheeks:
// larger means older.
float measure_age_cues(const cv::Mat& bgr);

}  // namespace fc
