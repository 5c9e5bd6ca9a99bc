// Files the dashboard serves: those in a job's own folder (job_files.h: nothing outside it,
// symlinks included) and a transform's recorded images (an item's input or output, the
// contact sheet), only where the job's owner may still read them and, for outputs, only while
// they are the bytes the job wrote.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "http/dashboard_api.h"
#include "service/job_files.h"
#include "service/path_user.h"
#include "text_limits.h"

namespace fcd::http {

using nlohmann::json;

namespace {

ApiError file_error(const JobFileError& e, int64_t id) {
  const std::string msg = "job " + std::to_string(id) + ": " + clip(e.what(), 1000);
  if (e.kind == JobFileError::kMissing) return ApiError(bhttp::status::not_found, msg);
  if (e.kind == JobFileError::kTooLarge) return ApiError(bhttp::status::payload_too_large, msg);
  return ApiError(bhttp::status::forbidden, msg);
}

std::string required(const Query& q, const std::string& key) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty())
    throw ApiError(bhttp::status::bad_request, "missing ?" + key + "=");
  return it->second;
}

}  // namespace

std::string read_and_close(int fd, int64_t size) {
  std::string out(static_cast<size_t>(size), '\0');
  int64_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, out.data() + got, static_cast<size_t>(size - got), got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // shrank since fstat: send what is there
    got += n;
  }
  ::close(fd);
  out.resize(static_cast<size_t>(got));
  return out;
}

FileReply DashboardApi::file(const User& u, int64_t id, const Query& q) {
  const JobRecord j = accessible_job(u, id);
  const std::string rel = required(q, "path");
  int64_t size = 0;
  int fd = -1;
  try {
    fd = open_job_file(job_folder(d_.jobs_dir, j.id), rel, d_.max_file_bytes, size);
  } catch (const JobFileError& e) {
    throw file_error(e, j.id);
  }
  return {read_and_close(fd, size), content_type_for(rel)};
}

FileReply DashboardApi::owner_image(const JobRecord& j, const std::string& path) {
  std::string canonical;
  try {
    // The check the job's own worker made, for its owner: a file replaced since by a link out
    // of the allowed folders (or into the data dir) is refused here too.
    canonical = d_.roots.for_user(path_user_for(j, queue())).check_read(path);
  } catch (const PathError& e) {
    throw ApiError(bhttp::status::forbidden, e.what());
  }
  if (!has_image_extension(canonical))
    throw ApiError(bhttp::status::forbidden, "'" + clip(path) + "' is not an image file");
  int fd = ::open(canonical.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ApiError(bhttp::status::not_found, "cannot open '" + clip(path) + "'");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > d_.max_file_bytes) {
    ::close(fd);
    throw ApiError(bhttp::status::payload_too_large,
                   "'" + clip(path) + "' is not a regular file of at most " +
                       std::to_string(d_.max_file_bytes) + " bytes");
  }
  return {read_and_close(fd, st.st_size), content_type_for(canonical)};
}

FileReply DashboardApi::image(const User& u, int64_t id, const Query& q) {
  const JobRecord j = accessible_job(u, id);
  if (j.kind != JobKind::kTransform)
    throw ApiError(bhttp::status::bad_request,
                   "job " + std::to_string(id) + " is a training run: its pictures are files");
  if (q.count("sheet")) {
    json result = json::parse(j.result_json.empty() ? "{}" : j.result_json, nullptr, false);
    if (!result.is_object() || !result.contains("contact_sheet") ||
        !result["contact_sheet"].is_string())
      throw ApiError(bhttp::status::not_found,
                     "job " + std::to_string(id) + " has no contact sheet");
    return owner_image(j, result["contact_sheet"].get<std::string>());
  }
  const int idx = static_cast<int>(query_int(q, "idx", -1, 0, 1 << 30));
  const std::string side = q.count("side") ? q.at("side") : "output";
  if (idx < 0 || (side != "input" && side != "output"))
    throw ApiError(bhttp::status::bad_request, "name an item: ?idx=N&side=input|output");
  auto page = queue().item_page(j.id, std::nullopt, idx, 1);
  if (page.items.empty() || page.items[0].idx != idx)
    throw ApiError(bhttp::status::not_found,
                   "job " + std::to_string(id) + " has no item " + std::to_string(idx));
  const ItemRecord& item = page.items[0];
  if (side == "input") return owner_image(j, item.input);
  if (item.state != ItemState::kSucceeded || item.output.empty())
    throw ApiError(bhttp::status::not_found, "item " + std::to_string(idx) + " has no output (" +
                                                 enum_name(item.state) + ")");
  FileReply reply = owner_image(j, item.output);
  json report = json::parse(item.report_json.empty() ? "{}" : item.report_json, nullptr, false);
  const std::string sha = report.is_object() ? report.value("sha256", "") : "";
  if (!sha.empty() && sha256_hex(reply.body) != sha)
    throw ApiError(bhttp::status::conflict, "'" + clip(item.output) + "' has changed since job " +
                                                std::to_string(id) + " wrote it");
  return reply;
}

}  // namespace fcd::http
