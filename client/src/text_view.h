// Human-readable output: tables, job details, one line per event.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "facecycle/v1/facecycle.pb.h"

namespace fcc {

// "2026-11-28 18:53:07" in local time; "-" for 0.
std::string format_time_ms(long long ms);
// "1m 05s", "2h 03m".
std::string format_duration(double seconds);

// Left-aligned columns separated by two spaces; the first row is the header.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// State, counts, per-item errors and reports, a train job's evaluation, the contact sheet.
void print_job_details(std::ostream& out, const facecycle::v1::Job& job);
// Its parts, for `show`, which prints the items a page at a time between them: the header
// (state, owner, times, counts, folders, error); items with their errors and reports; the
// result (evaluation, summary, manifest) and contact sheets.
void print_job_header(std::ostream& out, const facecycle::v1::Job& job);
void print_items(std::ostream& out, const std::vector<facecycle::v1::Item>& items);
void print_job_result(std::ostream& out, const facecycle::v1::Job& job);

// A card's calibrated directions (Condition::scale and change_blur), e.g.
// "age 20-29->50-59 x0.85, race White->Black blur 1"; "-" for a card without any, or one this
// client cannot read.
std::string calibration_text(const std::string& card_json);
// The model's domain gate for `facecycle models`: "race >= 0.98" (faces already the target at
// that probability are left), "-" when it has none, or the reason it cannot be read.
std::string gate_text(const facecycle::v1::Model& m);

// One line for non-terminal output, e.g. "18:53:07 job 4 item 3 succeeded: faces 1".
std::string event_line(const facecycle::v1::Event& e);

}  // namespace fcc
