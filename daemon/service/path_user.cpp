#include "service/path_user.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace fcd {

PathUser path_user_for(const User& user, JobStore& queue) {
  // A request naming 100,000 files of one job asks about that job once.
  auto seen = std::make_shared<std::unordered_map<int64_t, bool>>();
  auto may_read_job = [user, &queue, seen](int64_t id) {
    auto it = seen->find(id);
    if (it != seen->end()) return it->second;
    auto job = queue.get_job(id);
    return (*seen)[id] = job && can_access(user, job->owner);
  };
  return {user.name, user.is_admin, may_read_job};
}

PathUser path_user_for(const JobRecord& job, JobStore& queue) {
  auto request = nlohmann::json::parse(job.request_json, nullptr, false);
  const bool admin = request.is_object() && request.contains(kOwnerIsAdminKey) &&
                     request[kOwnerIsAdminKey].is_boolean() &&
                     request[kOwnerIsAdminKey].get<bool>();
  return path_user_for(User{job.owner, admin}, queue);
}

}  // namespace fcd
