// Putting finished files in place without replacing anyone's file. The rule "no job replaces a
// file it did not write" is enforced here, at the moment of the write, and not only at submit:
// between the two, another job, user or program may have created the same name.
#pragma once

#include <functional>
#include <map>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>

namespace fcd {

// The target exists and `may_replace` refused it; the message names the file.
struct PublishRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Asked with the target's path when it already exists: true lets it be replaced.
using MayReplace = std::function<bool(const std::string& existing)>;

// Writes the file under a temporary name in the target's folder (`write` fills that path,
// complete and fsynced), then moves it to `target` only if that name is free
// (renameat2 RENAME_NOREPLACE, or link() where the file system lacks it). When the name is
// taken, `may_replace` decides; refused -> PublishRefused and the temporary file is removed.
void publish_file(const std::string& target, const std::function<void(const std::string&)>& write,
                  const MayReplace& may_replace);

// publish_file for an image written by fc::write_image_atomic (encoding and metadata).
void publish_image(const std::string& target, const cv::Mat& bgr, const std::string& format,
                   const std::map<std::string, std::string>& metadata,
                   const MayReplace& may_replace);

// publish_file for text (manifests).
void publish_text(const std::string& target, const std::string& text,
                  const MayReplace& may_replace);

// Hex SHA-256 of a file's bytes; throws std::runtime_error when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace fcd
