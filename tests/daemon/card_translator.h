// A model for daemon tests that need only its card (and what a subclass adds, such as a gate):
// it hands every face back unchanged.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "facecycle/core/translator.h"

namespace fcd_test {

class CardTranslator : public fc::FaceTranslator {
 public:
  explicit CardTranslator(fc::ModelCard card) : card_(std::move(card)) {}
  const fc::ModelCard& card() const override { return card_; }
  std::string device() const override { return "cpu"; }

 protected:
  std::vector<cv::Mat> run_translate(const std::vector<cv::Mat>& faces, const std::string&, bool,
                                     double) override {
    return faces;
  }

 private:
  fc::ModelCard card_;
};

inline fc::ModelCard named_card(std::string name) {
  fc::ModelCard card;
  card.name = std::move(name);
  return card;
}

}  // namespace fcd_test
