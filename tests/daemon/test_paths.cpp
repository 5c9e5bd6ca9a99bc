#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "logging.h"
#include "paths.h"
#include "store/database.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;

void touch(const std::string& p) { std::ofstream(p) << "x"; }

class PathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "root/sub");
    fs::create_directories(tmp_ / "outside");
    touch(tmp_ / "root/sub/a.png");
    touch(tmp_ / "outside/secret.png");
    roots_.add(tmp_ / "root");
  }
  fcd_test::TempDir tmp_;
  fcd::AllowedRoots roots_;
};

TEST_F(PathsTest, FileInsideRootIsAllowed) {
  EXPECT_EQ(roots_.check_read(tmp_ / "root/sub/a.png"),
            fs::canonical(tmp_ / "root/sub/a.png").string());
}

TEST_F(PathsTest, DotDotEscapeIsRefused) {
  EXPECT_THROW(roots_.check_read(tmp_ / "root/sub/../../outside/secret.png"), fcd::PathError);
  EXPECT_THROW(roots_.check_output_dir(tmp_ / "root/../outside/new"), fcd::PathError);
  EXPECT_FALSE(fs::exists(tmp_ / "outside/new")) << "a refused output folder must not be created";
}

TEST_F(PathsTest, SymlinkEscapeIsRefusedForReadingAndWriting) {
  fs::create_symlink(tmp_ / "outside/secret.png", tmp_ / "root/link.png");
  fs::create_directory_symlink(tmp_ / "outside", tmp_ / "root/linkdir");
  try {
    roots_.check_read(tmp_ / "root/link.png");
    FAIL() << "symlink escape accepted";
  } catch (const fcd::PathError& e) {
    EXPECT_NE(std::string(e.what()).find("outside the allowed folders"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--allow"), std::string::npos) << "say what to do";
  }
  EXPECT_THROW(roots_.check_output_dir(tmp_ / "root/linkdir"), fcd::PathError);
  EXPECT_THROW(roots_.check_output_dir(tmp_ / "root/linkdir/deeper"), fcd::PathError);
  EXPECT_THROW(roots_.check_write(tmp_ / "root/linkdir/out.png"), fcd::PathError);
  // Writing through a symlink inside the root is refused too: it could be repointed.
  fs::create_symlink(tmp_ / "outside/secret.png", tmp_ / "root/sub/out.png");
  EXPECT_THROW(roots_.check_write(tmp_ / "root/sub/out.png"), fcd::PathError);
}

TEST_F(PathsTest, SymlinkWithinRootIsFine) {
  fs::create_symlink(tmp_ / "root/sub/a.png", tmp_ / "root/alias.png");
  EXPECT_NO_THROW(roots_.check_read(tmp_ / "root/alias.png"));
}

TEST_F(PathsTest, PrefixOfRootNameIsNotInside) {
  fs::create_directories(tmp_ / "root2");
  touch(tmp_ / "root2/x.png");
  EXPECT_THROW(roots_.check_read(tmp_ / "root2/x.png"), fcd::PathError);
}

TEST_F(PathsTest, MissingFileAndFolderAreClearErrors) {
  try {
    roots_.check_read(tmp_ / "root/nope.png");
    FAIL();
  } catch (const fcd::PathError& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos);
  }
  EXPECT_THROW(roots_.check_read(tmp_ / "root/sub"), fcd::PathError);
}

// Issue 12: outside the roots, an existing and a missing file must get the same answer, or the
// daemon tells any token holder which server paths exist.
TEST_F(PathsTest, OutsideTheRootsExistenceIsNotRevealed) {
  auto message = [&](const fs::path& p, bool dir) {
    try {
      dir ? roots_.check_read_dir(p) : roots_.check_read(p);
    } catch (const fcd::PathError& e) {
      std::string m = e.what();
      return m.substr(m.find(':'));
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(tmp_ / "outside/secret.png", false), message(tmp_ / "outside/nope.png", false));
  EXPECT_NE(message(tmp_ / "outside/nope.png", false).find("outside the allowed folders"),
            std::string::npos);
  EXPECT_EQ(message(tmp_ / "outside", true), message(tmp_ / "elsewhere", true));
}

TEST_F(PathsTest, OutputDirIsCreatedInsideRoot) {
  auto d = roots_.check_output_dir(tmp_ / "root/out/nested");
  EXPECT_TRUE(fs::is_directory(d));
  EXPECT_NO_THROW(roots_.check_write(d + "/x.png"));
}

TEST_F(PathsTest, ListsImageFilesNonRecursively) {
  touch(tmp_ / "root/b.JPG");
  touch(tmp_ / "root/notes.txt");
  touch(tmp_ / "root/.hidden.png");
  auto files = fcd::list_image_files(tmp_ / "root");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(fs::path(files[0]).filename(), "b.JPG");
}

TEST_F(PathsTest, RemovesOnlyAtomicWriteLeftovers) {
  touch(tmp_ / "root/.a.png.tmp-123-456");
  touch(tmp_ / "root/a.png");
  touch(tmp_ / "root/my.tmp-notes.png");
  EXPECT_EQ(fcd::remove_stale_temp_files(tmp_ / "root"), 1);
  EXPECT_FALSE(fs::exists(tmp_ / "root/.a.png.tmp-123-456"));
  EXPECT_TRUE(fs::exists(tmp_ / "root/a.png"));
  EXPECT_TRUE(fs::exists(tmp_ / "root/my.tmp-notes.png"));
}

// A job's end removes the temporaries of its outputs' atomic writes, including the one a daemon
// killed while writing a staged output leaves ("..NAME.tmp-PID-pubN.tmp-PID-M"), and nothing of
// other names or of a hidden output's own file.
TEST_F(PathsTest, RemovesTheTemporariesOfTheseTargetsOnly) {
  const fs::path d = tmp_ / "root";
  for (const char* f : {".a.png.tmp-1-pub2", "..a.png.tmp-1-pub2.tmp-1-3", "..h.png.tmp-1-4",
                        ".h.png", ".b.png.tmp-1-5", "a.png", "..b.png.tmp-1-pub2.tmp-1-3"})
    touch(d / f);
  EXPECT_EQ(fcd::remove_temp_files_of({(d / "a.png").string(), (d / ".h.png").string()}), 3);
  for (const char* gone : {".a.png.tmp-1-pub2", "..a.png.tmp-1-pub2.tmp-1-3", "..h.png.tmp-1-4"})
    EXPECT_FALSE(fs::exists(d / gone)) << gone;
  for (const char* kept : {".h.png", ".b.png.tmp-1-5", "a.png", "..b.png.tmp-1-pub2.tmp-1-3"})
    EXPECT_TRUE(fs::exists(d / kept)) << kept;
}

}  // namespace

namespace {
// Runs `f` with umask `mask`, restoring the old one.
template <class F>
void with_umask(mode_t mask, F&& f) {
  mode_t old = ::umask(mask);
  f();
  ::umask(old);
}
mode_t mode_of(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}
}  // namespace

// The data and models folders hold other users' photos, jobs and models; the database their
// token hashes. They were created with the umask's 0755/0644.
TEST_F(PathsTest, DataFoldersAndTheDatabaseAreOwnerOnlyWhateverTheUmask) {
  with_umask(022, [&] {
    fcd::make_private_dir(tmp_ / "data/models");
    fcd::Database db(tmp_ / "data/facecycle.db");
    db.exec("CREATE TABLE t (x INTEGER)");  // the -wal file exists now
    EXPECT_EQ(mode_of(tmp_ / "data/facecycle.db"), 0600u);
    EXPECT_EQ(mode_of(tmp_ / "data/facecycle.db-wal"), 0600u);
  });
  EXPECT_EQ(mode_of(tmp_ / "data/models"), 0700u);
  fs::create_directories(tmp_ / "mine");
  fs::permissions(tmp_ / "mine", fs::perms(0750), fs::perm_options::replace);
  fcd::make_private_dir(tmp_ / "mine");
  EXPECT_EQ(mode_of(tmp_ / "mine"), 0750u) << "a folder the user made is left as it is";
  // ... but not writable by others: quickstart.sh's `mkdir -p` under umask 000 made it 0777.
  with_umask(0, [&] { fs::create_directories(tmp_ / "open"); });
  fcd::make_private_dir(tmp_ / "open");
  EXPECT_EQ(mode_of(tmp_ / "open"), 0755u);
  // The log names users, jobs and paths; it was 0666 under umask 000.
  with_umask(0, [&] { fcd::setup_logging("info", tmp_ / "open/facecycled.log"); });
  spdlog::info("a line");
  EXPECT_EQ(mode_of(tmp_ / "open/facecycled.log"), 0600u);
  fcd::setup_logging("info", "");  // stderr only again, for the tests after this one
}
