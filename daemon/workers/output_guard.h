// Which existing files a transform job may replace. The rule: none it did not write itself.
// --overwrite extends it to files the same user's earlier jobs wrote (proved by the SHA-256 the
// queue recorded for them), never to an input of the job; --skip-existing keeps an output
// already made by the same model, task and direction.
#pragma once

#include <map>
#include <string>

#include "facecycle/core/translator.h"
#include "store/job_store.h"
#include "workers/transform_plan.h"

namespace fcd {

// The metadata every output carries to name the job item that wrote it; the creation time
// tells this job from one with the same id in an older database.
std::map<std::string, std::string> origin_metadata(const JobRecord& job, int idx);
// True when the file's metadata names this job's item `idx` (an earlier attempt of it).
bool written_by_item(const std::string& path, const JobRecord& job, int idx);
// Who makes a transform's edits: the model's name, what its card does to the change in the
// job's direction (Condition::scale and change_blur), so that recalibrating a card makes another
// edit at the same --strength, and whether its domain gate picks the faces.
struct EditMaker {
  std::string model;    // empty when no model is loaded
  double scale = 1.0;   // 1 for an uncalibrated direction, or a task the model lacks
  int change_blur = 0;  // 0 likewise
  // The gate's threshold ("0.98") when it leaves faces that already are the target; empty when
  // every face is edited: no gate for the task, --all-faces, or --whole-image.
  std::string gate;
};
EditMaker edit_maker(fc::FaceTranslator* model, const TransformSpec& spec);

// True when the file holds exactly what a succeeded item of one of `owner`'s transform jobs
// wrote to this path.
bool written_by_owner(JobStore& queue, const std::string& owner, const std::string& path);
// True when the file's metadata says `maker` made it with the spec's task, direction and
// strength (a file from before strengths or scales were recorded counts as 1, and one from
// before change blurs as 0), with the same gate (a file from before gates edited every face).
bool same_edit(const std::string& path, const EditMaker& maker, const TransformSpec& spec);

// At submit: throws InvalidRequest when planned outputs exist and the flags do not allow them,
// naming the first few and the flags. `maker` is the active model's (--skip-existing).
void check_existing_outputs(const TransformPlan& plan, const TransformSpec& spec,
                            const std::string& owner, const EditMaker& maker, JobStore& queue);

enum class ExistingOutput { kAbsent, kReplaceable, kSkip };
// At run time, before any work, for one item's output. Throws std::runtime_error (the item's
// error) when the output exists and may not be replaced.
ExistingOutput check_existing_output(const std::string& output, const std::string& input,
                                     const Claim& claim, const TransformSpec& spec,
                                     const EditMaker& maker, JobStore& queue);

}  // namespace fcd
