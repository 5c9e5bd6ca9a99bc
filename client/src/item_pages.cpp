#include "item_pages.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "json_view.h"
#include "text_view.h"

namespace fcc {

namespace v1 = facecycle::v1;

namespace {

int page_count(int total, int page_size) {
  return std::max(1, (total + page_size - 1) / page_size);
}

// An older daemon has no ListItems: the whole list, filtered and sliced here.
ItemPage page_from_full_list(Connection& conn, int64_t job_id, v1::JobState state, int offset,
                             int limit) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  req.set_include_items(true);
  v1::Job job;
  auto ctx = conn.context();
  conn.check(conn.stub().GetJob(ctx.get(), req, &job), "job " + std::to_string(job_id));
  ItemPage page;
  for (const auto& it : job.items()) {
    if (state != v1::JOB_STATE_UNSPECIFIED && it.state() != state) continue;
    if (page.total >= offset && page.total < offset + limit) page.items.push_back(it);
    ++page.total;
  }
  return page;
}

}  // namespace

ItemPage fetch_item_page(Connection& conn, int64_t job_id, v1::JobState state, int offset,
                         int limit) {
  v1::ListItemsRequest req;
  req.set_job_id(job_id);
  req.set_state(state);
  req.set_offset(offset);
  req.set_limit(limit);
  v1::ListItemsResponse resp;
  auto ctx = conn.context();
  grpc::Status s = conn.stub().ListItems(ctx.get(), req, &resp);
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED)
    return page_from_full_list(conn, job_id, state, offset, limit);
  conn.check(s, "items of job " + std::to_string(job_id));
  return {{resp.items().begin(), resp.items().end()}, resp.total()};
}

void print_item_page(std::ostream& out, const ItemPage& page, const ItemQuery& q) {
  const std::string what =
      q.state == v1::JOB_STATE_UNSPECIFIED ? "items" : state_word(q.state) + " items";
  if (page.items.empty()) {
    out << (page.total == 0 ? "no " + what + "\n" : what + ": none on this page\n");
    return;
  }
  const int first = q.offset() + 1;
  const int last = q.offset() + static_cast<int>(page.items.size());
  out << what << " " << first << "-" << last << " of " << page.total;
  if (page.total > q.page_size)
    out << " (page " << q.page << " of " << page_count(page.total, q.page_size) << ")";
  out << ":\n";
  print_items(out, page.items);
}

void print_item_hints(std::ostream& out, const v1::Job& job, const ItemPage& page,
                      const ItemQuery& q) {
  const std::string show = "facecycle show " + std::to_string(job.id());
  std::string filter =
      q.state == v1::JOB_STATE_UNSPECIFIED ? "" : " --state " + state_word(q.state);
  std::string size =
      q.page_size == ItemQuery().page_size ? "" : " --page-size " + std::to_string(q.page_size);
  std::vector<std::string> hints;
  if (q.offset() + static_cast<int>(page.items.size()) < page.total)
    hints.push_back("next page: `" + show + filter + size + " --page " +
                    std::to_string(q.page + 1) + "`");
  if (q.state == v1::JOB_STATE_UNSPECIFIED && job.items_failed() > 0 && page.total > q.page_size)
    hints.push_back("only the failed ones: `" + show + " --failed`");
  auto result = embedded_json(job.result_json());
  if (page.total > q.page_size && result.is_object() && result.contains("manifest"))
    hints.push_back("every item: " + result["manifest"].value("csv", std::string("the manifest")));
  for (const auto& h : hints) out << "  " << h << "\n";
}

void print_failed_after_follow(std::ostream& out, Connection& conn, const v1::Job& job) {
  const ItemQuery q{1, ItemQuery().page_size, v1::JOB_STATE_FAILED};
  const ItemPage page = fetch_item_page(conn, job.id(), q.state, q.offset(), q.page_size);
  for (const auto& it : page.items)
    out << "  #" << it.index() << " " << it.input() << ": "
        << (it.error().empty() ? "failed" : it.error()) << "\n";
  const int shown = static_cast<int>(page.items.size());
  if (page.total > shown)
    out << "  " << shown << " of " << page.total
        << " failed items shown; all of them: `facecycle show " << job.id() << " --failed`\n";
}

}  // namespace fcc
