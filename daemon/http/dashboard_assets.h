// The dashboard's page, script and style (daemon/http/dashboard/), compiled in at build time by
// daemon/embed_files.cmake: the daemon serves them with no runtime path, CDN or npm.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fcd::http {

struct Asset {
  std::string name;  // file name: "index.html", "dashboard.js", ...
  std::string_view text;
};

const std::vector<Asset>& dashboard_assets();

}  // namespace fcd::http
