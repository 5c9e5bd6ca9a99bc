// States and kinds written into SQL text by both job-store back ends.
#pragma once

#include <initializer_list>
#include <string>

#include "store/job_records.h"

namespace fcd::sql {

// A state or kind as an SQL literal, spelled by its name table (plain words: nothing to escape).
template <typename E>
std::string lit(E v) {
  return "'" + enum_name(v) + "'";
}

// "('a', 'b')", for IN.
template <typename E>
std::string lits(std::initializer_list<E> vs) {
  std::string out;
  for (E v : vs) out += (out.empty() ? "(" : ", ") + lit(v);
  return out + ")";
}

}  // namespace fcd::sql
