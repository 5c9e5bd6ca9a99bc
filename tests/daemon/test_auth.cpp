#include <gtest/gtest.h>

#include "service/auth.h"
#include "store/migrations.h"
#include "temp_dir.h"

namespace {

TEST(Auth, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(fcd::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Auth, TokensAreRandomAndOnlyTheirHashIsStored) {
  fcd_test::TempDir dir;
  fcd::Database db(dir / "s.db");
  fcd::apply_migrations(db);
  fcd::Auth auth(db);
  auto t1 = auth.add_token("ann", false);
  auto t2 = auth.add_token("bob", true);
  EXPECT_NE(t1, t2);
  EXPECT_EQ(t1.rfind("fc_", 0), 0u);

  auto st = db.prepare("SELECT sha256 FROM tokens ORDER BY id");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.text(0), fcd::sha256_hex(t1));
  auto any = db.prepare("SELECT COUNT(*) FROM tokens WHERE sha256 = ? OR sha256 = ?");
  any.bind(1, t1).bind(2, t2).step();
  EXPECT_EQ(any.int64(0), 0) << "the plain token must never be stored";

  auto ann = auth.user_for_token(t1);
  ASSERT_TRUE(ann);
  EXPECT_EQ(ann->name, "ann");
  EXPECT_FALSE(ann->is_admin);
  auto bob = auth.user_for_token(t2);
  ASSERT_TRUE(bob);
  EXPECT_TRUE(bob->is_admin);
  EXPECT_FALSE(auth.user_for_token(t1 + "x"));
  EXPECT_FALSE(auth.user_for_token(""));
}

TEST(Auth, LocalIsReserved) {
  fcd_test::TempDir dir;
  fcd::Database db(dir / "s.db");
  fcd::apply_migrations(db);
  fcd::Auth auth(db);
  EXPECT_THROW(auth.add_token("local", true), std::invalid_argument);
}

TEST(Auth, OwnerOrAdminMayAccess) {
  EXPECT_TRUE(fcd::can_access({"ann", false}, "ann"));
  EXPECT_FALSE(fcd::can_access({"bob", false}, "ann"));
  EXPECT_TRUE(fcd::can_access({"root", true}, "ann"));
  EXPECT_FALSE(fcd::can_access({"local", false}, "ann"));
}

TEST(Auth, BearerHeaderParsing) {
  EXPECT_EQ(fcd::bearer_token("Bearer fc_123"), "fc_123");
  EXPECT_EQ(fcd::bearer_token("bearer fc_123 "), "fc_123");
  EXPECT_EQ(fcd::bearer_token("Basic abc"), "");
  EXPECT_EQ(fcd::bearer_token("Bearer "), "");
  EXPECT_EQ(fcd::bearer_token(""), "");
}

}  // namespace
