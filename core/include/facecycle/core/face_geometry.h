// Face framing and the crop <-> photo geometry of the pipeline (OpenCV only).
//
// A crop is framed like UTKFace's aligned 200x200 chips, the generator's training data, scaled
// to the model resolution. The forward affine (photo -> crop) is a 2x3 CV_64F matrix kept in
// Face::to_crop; composite warps back with its inverse.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace fc {

// Where UTKFace chips put a face, in the 200x200 chip frame (measured, see face_geometry.cpp).
struct ChipFraming {
  static constexpr double kSize = 200.0;
  static constexpr double kEyeY = 56.9;  // both eyes, once level
  static constexpr double kEyeCentreX = 99.6;
  static constexpr double kInterOcular = 79.2;  // right eye to left eye
  static constexpr double kEyeToMouth = 77.4;   // eye midpoint to mouth-corner midpoint
  static constexpr double kMouthY = 134.35;
};

// Similarity transform photo -> crop (size x size) from YuNet's 5 landmarks (right eye, left
// eye, nose, mouth right, mouth left): eyes level, at the chip's eye positions.
cv::Mat crop_transform_from_landmarks(const std::vector<cv::Point2f>& landmarks, int size);

// photo -> crop from a detector box, using the measured box-to-chip relation of that detector
// ("haar", "yunet", "ssd"; anything else is treated as haar). No rotation.
cv::Mat crop_transform_from_box(const cv::Rect2f& box, const std::string& detector, int size);

// The whole photo is the crop: a plain resize (not a similarity when the photo is not square).
cv::Mat whole_image_transform(cv::Size image, int size);

// Maps a point with a 2x3 affine.
cv::Point2d apply_affine(const cv::Mat& affine, cv::Point2d p);
cv::Mat invert_affine(const cv::Mat& affine);

// The crop square's outline in photo coordinates, and its axis-aligned bounding box.
std::vector<cv::Point2f> crop_outline_in_image(const cv::Mat& to_crop, int size);
cv::Rect2f crop_bounds_in_image(const cv::Mat& to_crop, int size);
// Fraction of the crop square (by area) that lies inside the photo, in [0,1].
double crop_fraction_inside(const cv::Mat& to_crop, int size, cv::Size image);

// Crop pixels per photo pixel of a photo->crop similarity (sqrt of the linear part's |det|).
double crop_scale(const cv::Mat& to_crop);

// Samples the crop; pixels outside the photo are mirrored (BORDER_REFLECT). Large faces are
// pre-shrunk with pyrDown so the bilinear warp does not alias.
cv::Mat warp_to_crop(const cv::Mat& image, const cv::Mat& to_crop, int size);

float box_iou(const cv::Rect2f& a, const cv::Rect2f& b);

// The blend mask in crop coordinates, CV_32F in [0,1]: 1 inside an ellipse around the face,
// falling smoothly to exactly 0 over `feather` (a fraction of the crop size) at its edge.
struct MaskShape {
  double centre_x = 0.5, centre_y = 0.52;  // fractions of the crop size
  double radius_x = 0.40, radius_y = 0.47;
  double feather = 0.12;
  // Head masks only: the soft edge across the head's outline (a fraction of the crop size). The
  // outline is a real edge (hair against background), so it is narrower than `feather`, which
  // hides a seam inside continuous skin or hair.
  double head_feather = 0.04;
};
cv::Mat face_mask(int size, const MaskShape& shape = {});

// Pastes one generated crop back into `result` (CV_8UC3, the photo being edited): warps it with
// the inverse of to_crop, matches its colour to `original_crop` in the mask's outer ring, and
// blends with the feathered mask. Pixels where the warped mask is 0 are left untouched.
void composite_face(cv::Mat& result, const cv::Mat& original_crop, const cv::Mat& generated,
                    const cv::Mat& to_crop, const MaskShape& shape = {});

// The whole head (composite's mask = "head"). A chip-framed crop holds the face, the hair at
// its sides and only a strip above the forehead, the chin and little neck: the rest of the head
// lies outside it. So the head is segmented in a view twice the crop's size taken from the
// photo (GrabCut on 128 px, seeded with the face ellipse as sure foreground, a chip-framed
// skull-and-hair ellipse and a neck band as probable foreground, the view's border as
// background; k-means on a fixed seed, so the mask is reproducible). Inside the crop the
// generated face is pasted; outside it, up to the head's outline, the photo gets the colour
// change the generator made to the same colours inside the crop (hair greyed in the crop greys
// the hair above it, a darker skin darkens the neck), fading from one to the other over
// `feather` at the crop's edge.

// The blend weight of composite_head in photo coordinates: `weight` (CV_32F, [0,1]) over `roi`
// of the photo, 0 everywhere else. It is the union of the face ellipse and the head feathered
// by head_feather across its outline, so it is exactly 0 on background farther than half of
// head_feather (of the crop size) from the head.
struct HeadWeight {
  cv::Rect roi;
  cv::Mat weight;
};
HeadWeight head_weight(const cv::Mat& photo, const cv::Mat& to_crop, int size,
                       const MaskShape& shape = {});

// Pastes one generated crop over the whole head. `photo` is the unedited photo (the head is
// segmented on it and the outside-crop colour change applies to it), `result` the photo being
// edited; pixels where head_weight is 0 are left untouched.
void composite_head(cv::Mat& result, const cv::Mat& photo, const cv::Mat& original_crop,
                    const cv::Mat& generated, const cv::Mat& to_crop, const MaskShape& shape = {});

// Per-channel mean/std matching of `generated` to `original` measured where `ring` > 0, applied
// with weight `weight` (CV_32F, [0,1]) per pixel. Returns CV_32FC3.
cv::Mat match_colour_at_ring(const cv::Mat& generated, const cv::Mat& original, const cv::Mat& ring,
                             const cv::Mat& weight);

}  // namespace fc
