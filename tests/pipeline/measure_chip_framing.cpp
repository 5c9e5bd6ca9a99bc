// Measures how UTKFace's aligned 200x200 chips frame a face, for the constants in
// core/src/image/face_geometry.cpp.
//
//   measure_chip_framing <utkface_dir> <yunet.onnx> [ssd.pb ssd.pbtxt] [count=400]
//
// Runs YuNet on the first `count` chips (sorted by name) and prints the mean of its 5 landmarks
// in the 200x200 frame, plus the mean box of each detector (YuNet, Haar, SSD) in the same frame.
// Only chips with exactly one confident face count. Each chip is placed on a grey 400x400
// canvas first (100 px border, subtracted again): detectors behave as on a face in a photo
// rather than on a face that fills the frame (SSD returns junk boxes for the latter).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

struct Mean {
  std::vector<double> sum;
  int n = 0;
  void add(const std::vector<double>& v) {
    if (sum.empty()) sum.assign(v.size(), 0.0);
    for (size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
    ++n;
  }
  void print(const char* name) const {
    std::printf("%s (n=%d):", name, n);
    for (double s : sum) std::printf(" %.2f", n ? s / n : 0.0);
    std::printf("\n");
  }
};

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: measure_chip_framing <utkface_dir> <yunet.onnx> [ssd.pb ssd.pbtxt] "
                 "[count]\n";
    return 2;
  }
  std::string ssd_pb = argc > 4 ? argv[3] : "", ssd_txt = argc > 4 ? argv[4] : "";
  int count = argc > 5 ? std::stoi(argv[5]) : 400;
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(argv[1])) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  // Every 50th file: a spread over ages and races rather than the first names only.
  std::vector<std::string> pick;
  for (size_t i = 0; i < files.size() && int(pick.size()) < count; i += 50)
    pick.push_back(files[i]);

  constexpr int kPad = 100;
  auto yunet = cv::FaceDetectorYN::create(argv[2], "", {200 + 2 * kPad, 200 + 2 * kPad}, 0.8f);
  cv::CascadeClassifier haar("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml");
  cv::dnn::Net ssd;
  if (!ssd_pb.empty()) ssd = cv::dnn::readNetFromTensorflow(ssd_pb, ssd_txt);

  Mean lm, ybox, hbox, sbox;
  for (auto& f : pick) {
    cv::Mat chip = cv::imread(f), img;
    if (chip.empty() || chip.size() != cv::Size(200, 200)) continue;
    cv::copyMakeBorder(chip, img, kPad, kPad, kPad, kPad, cv::BORDER_CONSTANT, {127, 127, 127});
    cv::Mat out;
    yunet->detect(img, out);
    if (out.rows == 1) {
      const float* r = out.ptr<float>(0);
      std::vector<double> v;
      for (int k = 4; k < 14; ++k) v.push_back(r[k] - kPad);
      lm.add(v);
      ybox.add({r[0] - kPad, r[1] - kPad, r[2], r[3]});
    }
    std::vector<cv::Rect> faces;
    cv::Mat grey;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(grey, grey);
    haar.detectMultiScale(grey, faces, 1.1, 5, 0, {40, 40});
    if (faces.size() == 1)
      hbox.add({double(faces[0].x - kPad), double(faces[0].y - kPad), double(faces[0].width),
                double(faces[0].height)});
    if (!ssd.empty()) {
      cv::Mat blob = cv::dnn::blobFromImage(img, 1.0, {300, 300}, {104, 177, 123});
      ssd.setInput(blob);
      cv::Mat det = ssd.forward();
      cv::Mat d(det.size[2], det.size[3], CV_32F, det.ptr<float>());
      int best = -1, hits = 0;
      for (int i = 0; i < d.rows; ++i)
        if (d.at<float>(i, 2) > 0.5f && d.at<float>(i, 5) <= 1.f && d.at<float>(i, 6) <= 1.f) {
          ++hits;
          if (best < 0) best = i;
        }
      if (hits == 1) {
        const float side = 200 + 2 * kPad;
        float x0 = d.at<float>(best, 3) * side - kPad, y0 = d.at<float>(best, 4) * side - kPad;
        float x1 = d.at<float>(best, 5) * side - kPad, y1 = d.at<float>(best, 6) * side - kPad;
        sbox.add({x0, y0, x1 - x0, y1 - y0});
      }
    }
  }
  std::printf("chips examined: %zu\n", pick.size());
  lm.print(
      "yunet landmarks reye.x reye.y leye.x leye.y nose.x nose.y mouthR.x mouthR.y mouthL.x "
      "mouthL.y");
  ybox.print("yunet box x y w h");
  hbox.print("haar box x y w h");
  sbox.print("ssd box x y w h");
  return 0;
}
