#include "workers/publish.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "facecycle/core/image_io.h"
#include "hex.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

// Same pattern as fc::write_image_atomic's temporary names, so start-up clean-up
// (remove_stale_temp_files) also removes ours after a crash.
std::string staging_name(const fs::path& target) {
  std::random_device rd;
  return (target.parent_path() /
          ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-pub" +
           std::to_string(rd() % 1000000000U)))
      .string();
}

void fsync_dir(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

// Moves staging to target unless target exists. Returns false when the name is taken.
bool move_no_replace(const std::string& staging, const std::string& target) {
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0)
    return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    throw std::runtime_error("cannot move " + staging + " to " + target + ": " + errno_text());
  // No RENAME_NOREPLACE on this file system: link() fails rather than replace, too.
  if (::link(staging.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST) return false;
    throw std::runtime_error("cannot link " + staging + " to " + target + ": " + errno_text());
  }
  ::unlink(staging.c_str());
  return true;
}

}  // namespace

void publish_file(const std::string& target, const std::function<void(const std::string&)>& write,
                  const MayReplace& may_replace) {
  const fs::path t(target);
  // The staging name is claimed with O_EXCL first, so `write` can only ever replace a file
  // this call created.
  std::string staging;
  for (int tries = 0;; ++tries) {
    staging = staging_name(t);
    int fd = ::open(staging.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    if (errno != EEXIST || tries > 10)
      throw std::runtime_error("cannot create " + staging + ": " + errno_text());
  }
  try {
    write(staging);
    if (!move_no_replace(staging, target)) {
      if (!may_replace || !may_replace(target))
        throw PublishRefused(target +
                             " already exists and was not written by this job; it was left "
                             "as it is");
      if (::rename(staging.c_str(), target.c_str()) != 0)
        throw std::runtime_error("cannot replace " + target + ": " + errno_text());
    }
  } catch (...) {
    ::unlink(staging.c_str());
    throw;
  }
  fsync_dir(t.parent_path().string());
}

void publish_image(const std::string& target, const cv::Mat& bgr, const std::string& format,
                   const std::map<std::string, std::string>& metadata,
                   const MayReplace& may_replace) {
  publish_file(
      target,
      [&](const std::string& staging) { fc::write_image_atomic(staging, bgr, format, metadata); },
      may_replace);
}

void publish_text(const std::string& target, const std::string& text,
                  const MayReplace& may_replace) {
  publish_file(
      target,
      [&](const std::string& staging) {
        int fd = ::open(staging.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("cannot open " + staging + ": " + errno_text());
        size_t done = 0;
        while (done < text.size()) {
          ssize_t n = ::write(fd, text.data() + done, text.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            std::string err = errno_text();
            ::close(fd);
            throw std::runtime_error("cannot write " + staging + ": " + err);
          }
          done += static_cast<size_t>(n);
        }
        bool ok = ::fsync(fd) == 0;
        ok = ::close(fd) == 0 && ok;
        if (!ok) throw std::runtime_error("cannot write " + staging + ": " + errno_text());
      },
      may_replace);
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + errno_text());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(in.gcount()));
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return to_hex(md, len);
}

}  // namespace fcd
