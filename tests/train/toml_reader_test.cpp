// The shared config reader (facecycle/core/toml_reader.h) that the daemon, the trainer and the
// stage plugins use: typed getters, errors naming the full key, unknown keys refused.
#include "facecycle/core/toml_reader.h"

#include <gtest/gtest.h>

#include <functional>

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const fc::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TomlReader, TypedGettersReturnValuesOrDefaults) {
  const toml::table t = toml::parse("n = 3\nx = 0.5\ny = 2\nb = true\ns = \"hi\"\nl = [\"a\"]\n");
  fc::TomlReader r(t, "sec.");
  EXPECT_EQ(r.integer("n", 0, 0, 10), 3);
  EXPECT_EQ(r.number("x", 0, 0, 1), 0.5);
  EXPECT_EQ(r.number("y", 0, 0, 5), 2.0) << "an integer is a number too";
  EXPECT_TRUE(r.boolean("b", false));
  EXPECT_EQ(r.string("s", ""), "hi");
  EXPECT_EQ(r.strings("l"), std::vector<std::string>{"a"});
  EXPECT_EQ(r.integer("absent", 7, 0, 10), 7);
  EXPECT_EQ(r.one_of("absent2", "cpu", {"cpu", "cuda"}), "cpu");
  EXPECT_NO_THROW(r.finish());
}

TEST(TomlReader, ErrorsNameTheFullKeyAndWhatWasFound) {
  const toml::table t = toml::parse("n = \"three\"\nx = 2.5\nd = \"tpu\"\n");
  fc::TomlReader r(t, "plugins.detect.");
  EXPECT_EQ(error_of([&] { r.integer("n", 0, 0, 10); }),
            "plugins.detect.n: must be an integer (got \"three\")");
  EXPECT_EQ(error_of([&] { r.number("x", 0, 0, 1); }),
            "plugins.detect.x: must be between 0 and 1 (got 2.5)");
  EXPECT_EQ(error_of([&] {
              r.one_of("d", "cpu", {"cpu", "cuda"});
            }),
            "plugins.detect.d: must be one of: cpu, cuda (got \"tpu\")");
  try {
    r.integer("n", 0, 0, 10);
  } catch (const std::invalid_argument& e) {  // what the trainer's callers have always caught
    EXPECT_EQ(dynamic_cast<const fc::ConfigError&>(e).key(), "plugins.detect.n");
  }
}

TEST(TomlReader, UnknownKeysAreRefusedListingTheKnownOnes) {
  const toml::table t = toml::parse("workers = 2\nwrokers = 3\n");
  fc::TomlReader r(t, "");
  r.integer("workers", 1, 1, 8);
  r.string("listen", "");
  try {
    r.finish();
    FAIL() << "an unknown key was accepted";
  } catch (const fc::ConfigError& e) {
    EXPECT_TRUE(e.unknown_key());
    EXPECT_EQ(std::string(e.what()), "wrokers: unknown key (known: workers, listen)");
    EXPECT_EQ(e.in_file("d.toml"), "d.toml: unknown key 'wrokers' (known: workers, listen)");
  }
}

TEST(TomlReader, LongValuesAreClippedInMessages) {
  const std::string big(100000, 'x');
  const toml::table t = toml::parse("n = \"" + big + "\"\n");
  fc::TomlReader r(t, "");
  const std::string e = error_of([&] { r.integer("n", 0, 0, 1); });
  EXPECT_LT(e.size(), 400u);
  EXPECT_NE(e.find("(100000 bytes)"), std::string::npos) << e;
}

}  // namespace
