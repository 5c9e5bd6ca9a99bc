// The read-only web dashboard (issue 17) on the HTTP listener: the page at "/" (HTML, JS and
// CSS compiled into the binary) and the JSON API it reads under "/api/". A user sees exactly what
// the gRPC API shows them: their own jobs (admins: everyone's) and every model.
//
// Every /api/ request needs a token ("Authorization: Bearer TOKEN", the gRPC tokens): the HTTP
// listener has no peer credentials, so there is no unauthenticated local user here. The page
// keeps the token in sessionStorage and sends it from fetch(); images come through fetch() as
// blobs too, so a token never appears in a URL, a cookie or a log.
#pragma once

#include <cstdint>
#include <string>

#include "http/router.h"
#include "models/model_registry.h"
#include "paths.h"
#include "service/auth.h"
#include "store/job_store.h"

namespace fcd::http {

struct DashboardDeps {
  std::string jobs_dir;  // job folders: <jobs_dir>/ID
  // The job store the pages read: the daemon's queue, shared by every daemon on a PostgreSQL
  // store. The daemon hands it one on a connection of its own (daemon_main.cpp).
  JobStore& jobs;
  Auth& auth;
  ModelRegistry& models;
  const AllowedRoots& roots;  // a transform's images are served only where its owner may read
  // This daemon's node (LeaseHolder::node): a job that ran on another has its folder there.
  std::string node;
  // The largest file served (images, metrics.csv, sheets): a response is held in memory whole.
  int64_t max_file_bytes = 16 << 20;
};

void add_dashboard_routes(Router& router, const DashboardDeps& deps);

}  // namespace fcd::http
