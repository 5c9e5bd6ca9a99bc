// `show`'s items a page at a time (ListItems), so a 20,000-item job is never fetched whole.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "connection.h"

namespace fcc {

struct ItemQuery {
  int page = 1;  // 1-based
  int page_size = 20;
  facecycle::v1::JobState state = facecycle::v1::JOB_STATE_UNSPECIFIED;  // any state
  int offset() const { return (page - 1) * page_size; }
};

struct ItemPage {
  std::vector<facecycle::v1::Item> items;
  int total = 0;  // items in the state asked for
};

// One page from the daemon; sliced from GetJob's full list when the daemon predates ListItems.
ItemPage fetch_item_page(Connection& conn, int64_t job_id, facecycle::v1::JobState state,
                         int offset, int limit);

// "items 21-40 of 20000 (page 2 of 1000):" and the items; "failed items ..." for a filter.
void print_item_page(std::ostream& out, const ItemPage& page, const ItemQuery& q);

// How to see the rest: the next page, the failed items, the manifest with every row.
void print_item_hints(std::ostream& out, const facecycle::v1::Job& job, const ItemPage& page,
                      const ItemQuery& q);

// After a followed job (transform, retry, watch) with failed items: the first page of them
// ("  #3 in/x.png: error"), and, when there are more, how to see them all (show ID --failed).
void print_failed_after_follow(std::ostream& out, Connection& conn, const facecycle::v1::Job& job);

}  // namespace fcc
