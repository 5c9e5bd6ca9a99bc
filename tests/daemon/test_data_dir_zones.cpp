// Issue 12 re-run: the data dir was an allowed root, so any user could name another user's job
// files (or the database) as transform inputs and training paths.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "paths.h"
#include "store/job_queue.h"
#include "temp_dir.h"
#include "workers/train_runner.h"

namespace {

namespace fs = std::filesystem;

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

// Job 1 is alice's, job 2 mallory's; no other job exists.
fcd::PathUser user(const std::string& name, bool admin = false) {
  return {name, admin, [name, admin](int64_t id) {
            return admin || (id == 1 && name == "alice") || (id == 2 && name == "mallory");
          }};
}

class DataDirZones : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_ / "home/data";
    for (const char* f :
         {"facecycle.db", "facecycle.db-wal", "facecycled.sock", "facecycled.log", "crash_note",
          "models/m.pt", "models/m.card.json", "jobs/1/samples.png", "jobs/1/model/a.pt",
          "jobs/2/samples.png", "outputs/alice/x.png", "outputs/mallory/y.png", "stray.png"})
      touch(data_ / f);
    // An --allow root that holds the data dir (e.g. $HOME) must not open it.
    roots_.add(tmp_ / "home");
    roots_.set_data_dir(data_);
  }

  // The refusal's text after the path, or "accepted".
  static std::string read_answer(const fcd::AllowedRoots& roots, const fs::path& p) {
    try {
      roots.check_read(p);
      return "accepted";
    } catch (const fcd::PathError& e) {
      std::string m = e.what();
      return m.substr(m.find(": "));
    }
  }

  fcd_test::TempDir tmp_;
  fs::path data_;
  fcd::AllowedRoots roots_;
};

TEST_F(DataDirZones, AUserReadsOnlyTheirOwnJobFoldersAndOutputsThere) {
  const auto mallory = roots_.for_user(user("mallory"));
  EXPECT_EQ(read_answer(mallory, data_ / "jobs/2/samples.png"), "accepted");
  EXPECT_EQ(read_answer(mallory, data_ / "outputs/mallory/y.png"), "accepted");
  EXPECT_NO_THROW(mallory.check_read_dir(data_ / "jobs/2"));
  for (const char* f : {"jobs/1/samples.png", "jobs/1/model/a.pt", "outputs/alice/x.png",
                        "facecycle.db", "facecycle.db-wal", "facecycled.sock", "facecycled.log",
                        "crash_note", "models/m.pt", "models/m.card.json", "stray.png"}) {
    SCOPED_TRACE(f);
    EXPECT_NE(read_answer(mallory, data_ / f).find("outside the allowed folders"),
              std::string::npos);
  }
  for (const char* d : {"", "jobs", "jobs/1", "outputs", "outputs/alice", "models"}) {
    SCOPED_TRACE(d);
    EXPECT_THROW(mallory.check_read_dir(data_ / d), fcd::PathError);
  }
  // Alice's job and a job that does not exist read alike: ids must not reveal who runs what.
  EXPECT_EQ(read_answer(mallory, data_ / "jobs/1/samples.png"),
            read_answer(mallory, data_ / "jobs/99/samples.png"));
  // Through a symlink in a shared root, the target decides.
  fs::create_symlink(data_ / "jobs/1/samples.png", tmp_ / "home/alias.png");
  EXPECT_NE(read_answer(mallory, tmp_ / "home/alias.png"), "accepted");
  EXPECT_EQ(read_answer(roots_.for_user(user("alice")), tmp_ / "home/alias.png"), "accepted");
}

TEST_F(DataDirZones, AdminsReadEveryJobButNobodyReadsTheDaemonsOwnFiles) {
  const auto admin = roots_.for_user(user("boss", true));
  EXPECT_EQ(read_answer(admin, data_ / "jobs/1/samples.png"), "accepted");
  EXPECT_EQ(read_answer(admin, data_ / "outputs/alice/x.png"), "accepted");
  for (const auto& who : {admin, roots_.for_user(user("local")), roots_}) {
    for (const char* f :
         {"facecycle.db", "facecycled.sock", "facecycled.log", "crash_note", "models/m.pt"})
      EXPECT_NE(read_answer(who, data_ / f), "accepted") << f;
  }
  // A check that names nobody reaches nothing in the data dir, and the rest as before.
  EXPECT_NE(read_answer(roots_, data_ / "jobs/1/samples.png"), "accepted");
  touch(tmp_ / "home/photo.png");
  EXPECT_EQ(read_answer(roots_, tmp_ / "home/photo.png"), "accepted");
}

TEST_F(DataDirZones, OutputsGoOnlyToTheUsersOwnFolderThere) {
  const auto mallory = roots_.for_user(user("mallory"));
  EXPECT_NO_THROW(mallory.check_output_dir(data_ / "outputs/mallory/run1"));
  EXPECT_NO_THROW(mallory.check_write(data_ / "outputs/mallory/run1/a.png"));
  // A file planted in a job folder, even her own or one not made yet, would be read by the job.
  for (const char* d :
       {"outputs/alice/run", "outputs", "jobs/2/checkpoints", "jobs/3", "", "new"}) {
    SCOPED_TRACE(d);
    EXPECT_THROW(mallory.check_output_dir(data_ / d), fcd::PathError);
  }
  EXPECT_FALSE(fs::exists(data_ / "jobs/3"));
  EXPECT_THROW(mallory.check_write(data_ / "crash_note.png"), fcd::PathError);
  EXPECT_THROW(mallory.check_write(data_ / "jobs/2/samples-2.png"), fcd::PathError);
  EXPECT_THROW(roots_.for_user(user("boss", true)).check_output_dir(data_ / "outputs/alice/r"),
               fcd::PathError)
      << "admins read others' outputs but do not write among them";
}

// Folders made in the data dir followed the umask (0777 under umask 000).
TEST_F(DataDirZones, FoldersMadeThereAreOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  roots_.for_user(user("mallory")).check_output_dir(data_ / "outputs/mallory/new/deeper");
  fcd::JobRecord job;
  job.id = 7;
  auto req =
      fcd::train_request_for(job, (data_ / "jobs").string(), (data_ / "jobs/7/model").string());
  fcd::make_job_folders(req, (data_ / "jobs").string());
  ::umask(old);
  for (const char* d :
       {"outputs/mallory/new", "outputs/mallory/new/deeper", "jobs/7", "jobs/7/model"})
    EXPECT_EQ(mode_of(data_ / d), 0700u) << d;
  EXPECT_EQ(req.job_dir, (data_ / "jobs/7").string());
}

}  // namespace

// A jobs_dir outside the data dir (shared storage, docs/SCALE.md) keeps the jobs rule, whatever
// --allow root holds it: a user reads their own job's folder, nobody writes there, and the
// folder itself lists nobody's jobs.
TEST(SharedJobsDir, KeepsTheJobsRuleWhateverRootHoldsIt) {
  fcd_test::TempDir tmp;
  const fs::path jobs = tmp / "shared/jobs", data = tmp / "data";
  for (const char* f : {"1/samples.png", "1/checkpoints/c.pt", "2/samples.png", "notes.txt"})
    touch(jobs / f);
  fs::create_directories(data);
  fcd::AllowedRoots roots;
  roots.add(tmp / "shared");  // --allow /shared: the team's photos beside the jobs folder
  touch(tmp / "shared/photos/in.png");
  roots.set_data_dir(data);
  roots.set_jobs_dir(jobs);
  const auto alice = roots.for_user(user("alice"));
  const auto mallory = roots.for_user(user("mallory"));
  EXPECT_NO_THROW(alice.check_read(jobs / "1/samples.png"));
  EXPECT_NO_THROW(alice.check_read(jobs / "1/checkpoints/c.pt"));
  EXPECT_NO_THROW(alice.check_read(tmp / "shared/photos/in.png")) << "the root still works";
  EXPECT_THROW(mallory.check_read(jobs / "1/samples.png"), fcd::PathError);
  EXPECT_THROW(alice.check_read(jobs / "notes.txt"), fcd::PathError);
  EXPECT_THROW(alice.check_read_dir(jobs), fcd::PathError);
  EXPECT_THROW(alice.check_write(jobs / "1/samples.png"), fcd::PathError);
  EXPECT_THROW(mallory.check_output_dir(jobs / "3"), fcd::PathError)
      << "a file planted in a future job's folder would be read by that job";
  EXPECT_FALSE(fs::exists(jobs / "3"));
  EXPECT_THROW(roots.check_read(jobs / "1/samples.png"), fcd::PathError) << "no user: nothing";
  try {
    mallory.check_read(jobs / "1/samples.png");
  } catch (const fcd::PathError& e) {
    EXPECT_NE(std::string(e.what()).find("only " + jobs.string() + "/ID of your own jobs"),
              std::string::npos)
        << e.what();
  }
}
