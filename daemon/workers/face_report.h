// What an item's report and the job's before/after sheet say about each face: where it was
// found, how sure the detector was, and whether it was edited. An overnight job over thousands
// of photos is audited from these: a false detection (a shirt fold, lettering) shows as a
// marked box on the sheet and as a low score or odd box in the manifest.
#pragma once

#include <facecycle/plugin.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <vector>

namespace fcd {

// {"faces_found", "faces_edited", "faces_skipped": [{"face", "reason"}], "faces": [{"box":
// [x, y, w, h] (photo pixels, rounded), "score" (2 decimals), "gate" (the model's gate's
// P(already the target), 2 decimals, when it read the face), "edited" (bool), "skipped" (the
// reason, only when skipped)}]}.
nlohmann::json face_report(const std::vector<fc::Face>& faces);

// A copy of `photo` with each face of a report's "faces" outlined: edited faces in green,
// skipped ones in orange, each with its detector score and, where the model's gate read it,
// the gate's reading ("0.98 gate 0.99"). A box that covers nearly the whole
// photo (a --whole-image item) is not drawn. Entries that do not parse are left out.
cv::Mat mark_faces(const cv::Mat& photo, const nlohmann::json& faces);

}  // namespace fcd
