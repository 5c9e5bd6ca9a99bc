// The completion scripts against the CLI11 app that parses the command line: every subcommand
// and option is named where the shell offers it, and bash completes as a user types.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "cli_app.h"

namespace {

namespace fs = std::filesystem;

struct Command {
  std::string path;  // "", "transform", "models activate"
  const CLI::App* app;
};

void walk(const CLI::App* app, const std::string& path, std::vector<Command>& out) {
  out.push_back({path, app});
  for (const CLI::App* sub : app->get_subcommands({}))
    walk(sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options({})) {
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
  }
  return names;
}

// The words a `case` branch of the bash script echoes for `key`.
std::set<std::string> bash_words(const std::string& script, const std::string& function,
                                 const std::string& key) {
  size_t f = script.find(function + "() {");
  EXPECT_NE(f, std::string::npos) << function;
  size_t end = script.find("\n}\n", f);
  std::string body = script.substr(f, end - f);
  std::smatch m;
  std::regex line("\n    '" + std::regex_replace(key, std::regex(R"([|*])"), R"(\$&)") +
                  "'\\) echo '([^']*)' ;;");
  std::set<std::string> words;
  if (!std::regex_search(body, m, line)) return words;
  std::istringstream in(m[1].str());
  for (std::string w; in >> w;) words.insert(w);
  return words;
}

std::string zsh_function_body(const std::string& script, const std::string& path) {
  std::string name = "_facecycle";
  if (!path.empty()) name += "_";
  for (char c : path) name += c == ' ' ? '_' : c;
  size_t f = script.find("\n" + name + "() {\n");
  if (f == std::string::npos) return "";
  return script.substr(f, script.find("\n}\n", f) - f);
}

class Completion : public ::testing::Test {
 protected:
  fcc::CliState state_;
  std::unique_ptr<CLI::App> app_ = fcc::make_app(state_);
  std::vector<Command> commands_;
  void SetUp() override { walk(app_.get(), "", commands_); }
};

TEST_F(Completion, TheAppHasTheCommandsUsersKnow) {
  std::set<std::string> paths;
  for (const auto& c : commands_) paths.insert(c.path);
  for (const char* p :
       {"health", "plugins", "models", "models list", "models activate", "jobs", "show", "watch",
        "cancel", "fetch", "transform", "train", "runs", "runs compare", "completion"})
    EXPECT_TRUE(paths.count(p)) << p;
}

TEST_F(Completion, BashNamesEverySubcommandAndOptionWhereItApplies) {
  const std::string script = fcc::bash_completion(*app_);
  const auto globals = option_names(app_.get());
  for (const auto& c : commands_) {
    SCOPED_TRACE("command '" + c.path + "'");
    auto offered = bash_words(script, "_facecycle_options", c.path);
    for (const auto& name : option_names(c.app)) EXPECT_TRUE(offered.count(name)) << name;
    for (const auto& name : globals)
      if (name != "-h" && name != "--help") EXPECT_TRUE(offered.count(name)) << name;
    auto subs = bash_words(script, "_facecycle_subcommands", c.path);
    for (const CLI::App* sub : c.app->get_subcommands({}))
      EXPECT_TRUE(subs.count(sub->get_name())) << sub->get_name();
    EXPECT_EQ(subs.size(), c.app->get_subcommands({}).size()) << "no extra subcommands";
  }
}

TEST_F(Completion, ZshNamesEverySubcommandAndOptionInItsFunction) {
  const std::string script = fcc::zsh_completion(*app_);
  EXPECT_EQ(script.rfind("#compdef facecycle\n", 0), 0u);
  for (const auto& c : commands_) {
    SCOPED_TRACE("command '" + c.path + "'");
    const std::string body = zsh_function_body(script, c.path);
    ASSERT_FALSE(body.empty());
    for (const auto& name : option_names(c.app))
      EXPECT_TRUE(std::regex_search(body, std::regex("[{,')]" + name + "[\\[,}]"))) << name;
    for (const CLI::App* sub : c.app->get_subcommands({}))
      EXPECT_NE(body.find("'" + sub->get_name() + ":"), std::string::npos) << sub->get_name();
  }
}

// bash with the generated script: COMPREPLY for a command line whose last word is completed.
std::vector<std::string> complete(const std::string& script_path, const std::string& words,
                                  const std::string& cwd) {
  std::string cmd = "cd '" + cwd + "' && bash --norc --noprofile -c 'source \"" + script_path +
                    "\"; COMP_WORDS=(" + words + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); " +
                    "_facecycle; printf \"%s\\n\" \"${COMPREPLY[@]}\"' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST_F(Completion, BashCompletesSubcommandsOptionsChoicesAndFiles) {
  const fs::path dir = fs::temp_directory_path() / ("fc-completion-" + std::to_string(getpid()));
  fs::create_directories(dir / "photos");
  std::ofstream(dir / "pic.png") << "x";
  const std::string script = (dir / "facecycle.bash").string();
  std::ofstream(script) << fcc::bash_completion(*app_);
  using V = std::vector<std::string>;
  const std::string d = dir.string();
  EXPECT_EQ(complete(script, "facecycle tr", d), (V{"train", "transform"}));
  EXPECT_EQ(complete(script, "facecycle --json --server x tr", d), (V{"train", "transform"}));
  EXPECT_EQ(complete(script, "facecycle transform --re", d), (V{"--recursive", "--reverse"}));
  EXPECT_EQ(complete(script, "facecycle transform --format \"\"", d), (V{"jpg", "png", "same"}));
  EXPECT_EQ(complete(script, "facecycle transform --task \"\"", d), (V{"age", "race"}));
  EXPECT_EQ(complete(script, "facecycle transform -o \"\"", d), (V{"photos"}))
      << "-o takes a folder";
  EXPECT_EQ(complete(script, "facecycle transform -o out p", d), (V{"photos", "pic.png"}));
  EXPECT_EQ(complete(script, "facecycle models \"\"", d), (V{"activate", "list"}));
  // The states come from the proto's JobState, the one list the daemon answers with.
  const V states{"cancelled", "failed", "queued", "running", "succeeded"};
  EXPECT_EQ(complete(script, "facecycle jobs --state \"\"", d), states);
  EXPECT_EQ(complete(script, "facecycle show 3 --state \"\"", d), states);
  EXPECT_EQ(complete(script, "facecycle fetch 3 --o", d), (V{"--out"}));
  EXPECT_EQ(complete(script, "facecycle completion \"\"", d), (V{"bash", "zsh"}));
  fs::remove_all(dir);
}

// The files CMake generates and installs are what this build's binary prints.
TEST_F(Completion, TheBuildsScriptsAreTheBinarysOwn) {
  for (const auto& [file, text] :
       {std::pair{std::string("facecycle"), fcc::bash_completion(*app_)},
        std::pair{std::string("_facecycle"), fcc::zsh_completion(*app_)}}) {
    std::ifstream in(std::string(FC_BINARY_DIR) + "/completions/" + file);
    ASSERT_TRUE(in) << file;
    std::stringstream s;
    s << in.rdbuf();
    EXPECT_EQ(s.str(), text) << file;
  }
}

TEST_F(Completion, ZshParsesTheScriptWhenZshIsInstalled) {
  if (std::system("command -v zsh >/dev/null 2>&1") != 0) GTEST_SKIP() << "no zsh here";
  const std::string path = fs::temp_directory_path() / ("fc-zsh-" + std::to_string(getpid()));
  std::ofstream(path) << fcc::zsh_completion(*app_);
  EXPECT_EQ(std::system(("zsh -n '" + path + "'").c_str()), 0);
  fs::remove(path);
}

}  // namespace
