// The files a transform job writes next to its outputs: a before/after contact sheet and a
// manifest (JSONL with one row per item as items finish, rewritten complete when the job ends,
// and a CSV then). Their names carry the job id (contact_sheet_job<N>.png, manifest_job<N>.jsonl
// and .csv) and they replace nothing: a name some other file holds gets a suffix (-2, -3, ...).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/job_store.h"

namespace fcd {

// One manifest row: input, output, state (skipped for --skip-existing), error, faces found and
// edited when known, the output's SHA-256, the model, and (JSONL only) each face's box, detector
// score and whether it was edited (face_report.h).
nlohmann::json manifest_row(const JobRecord& job, const ItemRecord& item);

// How many succeeded items each model made, {"NAME": count}; empty when no item names one. More
// than one name means a model was activated while the job ran (items in flight keep theirs).
nlohmann::json models_used(const std::vector<ItemRecord>& items);

// Appends the row of an item that just ended to the job's JSONL manifest. Never throws: a
// manifest problem is logged and must not fail the item.
void append_manifest_row(const JobRecord& job, ItemRecord item, ItemOutcome outcome,
                         const std::string& error, const std::string& report_json);

// Writes the complete JSONL and the CSV manifest; returns {jsonl path, csv path}.
std::pair<std::string, std::string> write_manifests(const JobRecord& job,
                                                    const std::vector<ItemRecord>& items);

// Writes the contact sheet: up to 16 succeeded items sampled evenly across the job, each pair
// labelled with its file name, task and direction, 256 px high. Returns its path, or empty
// when there was nothing to show.
std::string write_contact_sheet(const JobRecord& job, const std::vector<ItemRecord>& items);

}  // namespace fcd
