// fetch, and the file list `show` prints for a training job: a job's folder through the API, so
// a user on TCP gets the samples, curves and model without a login on the daemon's machine.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "text_view.h"

namespace fcc {

namespace v1 = facecycle::v1;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Names come from the daemon: one with ".." or a leading "/" must not write outside --out.
fs::path safe_relative(const std::string& name) {
  fs::path p(name);
  bool ok = !name.empty() && p.is_relative();
  for (const auto& part : p) ok = ok && part != ".." && part != ".";
  if (!ok) throw CliError("refusing the file name '" + name + "': not a path inside the job");
  return p;
}

bool wanted_by_default(const std::string& path) {
  return path == "samples.png" || path == "loss_curves.png" || path.rfind("model/", 0) == 0;
}

std::string size_text(int64_t bytes) {
  char buf[32];
  if (bytes >= 1 << 20)
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1048576.0);
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.0f KB", bytes / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  return buf;
}

// Streams one file into `dest` through a temporary name: an interrupted download leaves no
// half file under the real name. Returns the bytes written.
int64_t download(Connection& conn, int64_t job_id, const std::string& name, const fs::path& dest) {
  fs::create_directories(dest.parent_path());
  const fs::path tmp = dest.string() + ".part";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw CliError("cannot write " + tmp.string());
  int64_t got = 0;
  try {
    got = stream_job_file(conn, job_id, name, [&](const std::string& data) {
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
    });
    out.close();
    if (!out) throw CliError("cannot write " + dest.string());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, dest);
  return got;
}

}  // namespace

int64_t stream_job_file(Connection& conn, int64_t job_id, const std::string& name,
                        const std::function<void(const std::string&)>& sink) {
  v1::FetchJobFileRequest req;
  req.set_job_id(job_id);
  req.set_path(name);
  auto ctx = conn.context(std::chrono::seconds(0));
  auto reader = conn.stub().FetchJobFile(ctx.get(), req);
  int64_t got = 0, size = -1;
  v1::FileChunk chunk;
  while (reader->Read(&chunk)) {
    if (chunk.offset() != got) throw CliError("download of " + name + ": chunks out of order");
    size = chunk.size();
    sink(chunk.data());
    got += static_cast<int64_t>(chunk.data().size());
  }
  conn.check(reader->Finish(), "fetch " + name + " of job " + std::to_string(job_id));
  if (got != size)
    throw CliError("fetch " + name + ": got " + std::to_string(got) + " of " +
                   std::to_string(size) + " bytes; try again");
  return got;
}

v1::ListJobFilesResponse list_job_files(Connection& conn, int64_t job_id) {
  v1::ListJobFilesRequest req;
  req.set_job_id(job_id);
  v1::ListJobFilesResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().ListJobFiles(ctx.get(), req, &resp),
             "list the files of job " + std::to_string(job_id));
  return resp;
}

void print_job_files(std::ostream& out, const v1::ListJobFilesResponse& files, int64_t job_id) {
  out << "job folder: " << files.job_dir() << "\n";
  for (const auto& f : files.files())
    out << "  " << f.path() << "  (" << size_text(f.size()) << ")\n";
  if (files.files_size() > 0) out << "download: facecycle fetch " << job_id << " [--out DIR]\n";
}

int cmd_fetch(const GlobalOptions& g, const FetchOptions& o) {
  Connection conn(g);
  auto listing = list_job_files(conn, o.job_id);
  if (o.list) {
    if (g.json) {
      json files = json::array();
      for (const auto& f : listing.files())
        files.push_back({{"path", f.path()}, {"size", f.size()}, {"modified_ms", f.modified_ms()}});
      std::cout << json{{"job_dir", listing.job_dir()}, {"files", files}}.dump(2) << "\n";
    } else {
      print_job_files(std::cout, listing, o.job_id);
    }
    return kExitOk;
  }
  std::vector<std::string> names = o.files;
  if (names.empty())
    for (const auto& f : listing.files())
      if (wanted_by_default(f.path())) names.push_back(f.path());
  if (names.empty())
    throw CliError("job " + std::to_string(o.job_id) +
                   " has no samples, loss curves or model (yet): `facecycle fetch " +
                   std::to_string(o.job_id) + " --list` shows what it has");
  json written = json::array();
  for (const auto& name : names) {
    const fs::path dest = fs::path(o.out_dir) / safe_relative(name);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dest, ec)))
      throw CliError(dest.string() + " exists: fetch replaces no file (remove it or use --out)");
    int64_t n = download(conn, o.job_id, name, dest);
    if (g.json)
      written.push_back({{"path", name}, {"file", dest.string()}, {"size", n}});
    else
      std::cout << "wrote " << dest.string() << " (" << size_text(n) << ")\n";
  }
  if (g.json) std::cout << written.dump(2) << "\n";
  return kExitOk;
}

}  // namespace fcc
