#include <gtest/gtest.h>

#include "duration.h"
#include "service/auth.h"
#include "store/migrations.h"
#include "store_backends.h"
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

// What Auth does with users and tokens, on each back end (store_backends.h).
template <typename Backend>
class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override { FC_SKIP_UNLESS_AVAILABLE(backend_); }
  // One more daemon's Auth on the test's database; the first is daemon() too.
  fcd::Auth& daemon() {
    auths_.push_back(std::make_unique<fcd::Auth>(backend_.tokens()));
    return *auths_.back();
  }
  Backend backend_;
  std::vector<std::unique_ptr<fcd::Auth>> auths_;
};
TYPED_TEST_SUITE(AuthTest, fcd_test::StoreBackends, fcd_test::BackendName);

TYPED_TEST(AuthTest, LocalIsReserved) {
  auto& auth = this->daemon();
  EXPECT_THROW(auth.add_token("local", true), std::invalid_argument);
}

TYPED_TEST(AuthTest, RevokedAndExpiredTokensAreRefusedSayingWhy) {
  auto& auth = this->daemon();
  auto ann1 = auth.add_token("ann", false), ann2 = auth.add_token("ann", false);
  auto bob = auth.add_token("bob", false);
  auto old = auth.add_token("cy", false, fcd::now_ms() - 1);
  auto later = auth.add_token("cy", false, fcd::now_ms() + 3600 * 1000);

  auto expired = auth.check_token(old);
  EXPECT_FALSE(expired.user);
  EXPECT_NE(expired.refusal.find("token 4 of cy expired at"), std::string::npos) << expired.refusal;
  EXPECT_TRUE(auth.user_for_token(later)) << "not yet expired";

  auto revoked = auth.revoke("1");
  ASSERT_EQ(revoked.size(), 1u);
  EXPECT_EQ(revoked[0].user, "ann");
  auto check = auth.check_token(ann1);
  EXPECT_FALSE(check.user);
  EXPECT_NE(check.refusal.find("token 1 of ann was revoked at"), std::string::npos)
      << check.refusal;
  EXPECT_NE(check.refusal.find("token add"), std::string::npos) << "says what to do";
  EXPECT_TRUE(auth.user_for_token(ann2)) << "ann's other token still works";

  EXPECT_EQ(auth.revoke("ann").size(), 1u) << "by user: the live ones";
  EXPECT_FALSE(auth.user_for_token(ann2));
  EXPECT_TRUE(auth.user_for_token(bob));
  EXPECT_THROW(auth.revoke("ann"), std::invalid_argument) << "nothing left to revoke";
  EXPECT_THROW(auth.revoke("99"), std::invalid_argument);
  EXPECT_THROW(auth.revoke("nobody"), std::invalid_argument);
}

TYPED_TEST(AuthTest, TheListShowsStatesAndLastUseButNoToken) {
  auto& auth = this->daemon();
  auto ann = auth.add_token("ann", true);
  auth.add_token("bob", false, fcd::now_ms() - 1);
  auth.add_token("cy", false);
  auth.revoke("cy");
  auto before = auth.list_tokens();
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[0].last_used_ms, 0);
  ASSERT_TRUE(auth.check_token(ann, /*touch=*/false).user);
  EXPECT_EQ(auth.list_tokens()[0].last_used_ms, 0) << "a watch's re-check is not a use";
  ASSERT_TRUE(auth.user_for_token(ann));
  auto list = auth.list_tokens();
  EXPECT_GT(list[0].last_used_ms, 0);
  EXPECT_TRUE(list[0].is_admin);
  EXPECT_EQ(list[0].state, fcd::TokenState::kActive);
  EXPECT_EQ(list[1].state, fcd::TokenState::kExpired);
  EXPECT_EQ(list[2].state, fcd::TokenState::kRevoked);
  EXPECT_GT(list[2].revoked_ms, 0);
  EXPECT_EQ(fcd::enum_name(list[2].state), "revoked");
}

TYPED_TEST(AuthTest, AllDigitNamesAreRefusedSoRevokeCanTellIdsFromUsers) {
  EXPECT_THROW(this->daemon().add_token("42", false), std::invalid_argument);
  EXPECT_THROW(this->daemon().revoke("99999999999999999999"), std::invalid_argument)
      << "an id too long for any token is no token, on either back end";
}

// Several daemons on one database (issue 18): a token made through any of them, or with
// `facecycled token add` against it, works on all; a revocation through one stops it on all.
TYPED_TEST(AuthTest, EveryDaemonOnTheDatabaseSeesTheSameTokens) {
  auto& a = this->daemon();
  auto& b = this->daemon();
  const auto ann = a.add_token("ann", false);
  const auto root = b.add_token("root", true);
  auto on_b = b.check_token(ann);
  ASSERT_TRUE(on_b.user) << on_b.refusal;
  EXPECT_EQ(on_b.user->name, "ann");
  EXPECT_FALSE(on_b.user->is_admin);
  auto on_a = a.user_for_token(root);
  ASSERT_TRUE(on_a);
  EXPECT_TRUE(on_a->is_admin);
  ASSERT_EQ(b.list_tokens().size(), 2u);
  EXPECT_GT(a.list_tokens()[0].last_used_ms, 0) << "b's use of ann's token shows on a";

  a.add_token("ann", true);  // an admin token makes ann an admin, whoever asks
  EXPECT_TRUE(b.user_for_token(ann)->is_admin);
  b.revoke("ann");
  auto refused = a.check_token(ann);
  EXPECT_FALSE(refused.user) << "revoked through b, refused by a";
  EXPECT_NE(refused.refusal.find("was revoked at"), std::string::npos) << refused.refusal;
  EXPECT_TRUE(a.user_for_token(root));
}

TEST(Auth, ExpiryDurations) {
  EXPECT_EQ(fcd::parse_duration_ms("45s"), 45'000);
  EXPECT_EQ(fcd::parse_duration_ms("90m"), 90 * 60'000);
  EXPECT_EQ(fcd::parse_duration_ms("12h"), 12 * 3'600'000);
  EXPECT_EQ(fcd::parse_duration_ms("30d"), int64_t{30} * 86'400'000);
  EXPECT_EQ(fcd::parse_duration_ms("2w"), int64_t{14} * 86'400'000);
  for (const char* bad : {"", "d", "30", "3y", "-1d", "1.5d", "0d", "99999w", "30 d"})
    EXPECT_THROW(fcd::parse_duration_ms(bad), std::invalid_argument) << bad;
  try {
    fcd::parse_duration_ms("3y");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("e.g. 30d"), std::string::npos) << e.what();
  }
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
