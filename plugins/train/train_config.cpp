#include "train_config.h"

#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "facecycle/core/toml_limits.h"

namespace fc::train {
namespace {

// The CycleGAN paper's cycle weight, and the lower one we use for preset = "original": the
// original age/race work trades cycle consistency for stronger edits. 5 halves the paper's
// weight, which in our runs still keeps identity while letting wrinkles and tone change.
constexpr double kPaperLambdaCycle = 10.0;
constexpr double kOriginalLambdaCycle = 5.0;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw std::invalid_argument(key + ": " + what);
}

std::string describe(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return "\"" + *s + "\"";
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) {
    std::ostringstream s;
    s << *d;
    return s.str();
  }
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  if (n.is_array()) return "an array";
  if (n.is_table()) return "a table";
  return "a date/time";
}

// Reads one table, remembering which keys were used so unknown ones can be refused.
class Reader {
 public:
  Reader(const toml::table& t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

  std::string key(const std::string& k) const { return prefix_ + k; }
  bool has(const std::string& k) const { return t_.contains(k); }
  const toml::node* node(const std::string& k) {
    used_.insert(k);
    return t_.get(k);
  }

  long long integer(const std::string& k, long long def, long long lo, long long hi) {
    const toml::node* n = node(k);
    if (!n) return def;
    if (!n->is_integer()) fail(key(k), "expected an integer, got " + describe(*n));
    long long v = n->as_integer()->get();
    if (v < lo || v > hi)
      fail(key(k), std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "]");
    return v;
  }

  double number(const std::string& k, double def, double lo, double hi) {
    const toml::node* n = node(k);
    if (!n) return def;
    double v;
    if (n->is_floating_point())
      v = n->as_floating_point()->get();
    else if (n->is_integer())
      v = static_cast<double>(n->as_integer()->get());
    else
      fail(key(k), "expected a number, got " + describe(*n));
    if (!(v >= lo && v <= hi)) {
      std::ostringstream s;
      s << v << " is out of range [" << lo << ", " << hi << "]";
      fail(key(k), s.str());
    }
    return v;
  }

  bool boolean(const std::string& k, bool def) {
    const toml::node* n = node(k);
    if (!n) return def;
    if (!n->is_boolean()) fail(key(k), "expected true or false, got " + describe(*n));
    return n->as_boolean()->get();
  }

  std::string string(const std::string& k, const std::string& def,
                     const std::vector<std::string>& allowed = {}) {
    const toml::node* n = node(k);
    if (!n) return def;
    if (!n->is_string()) fail(key(k), "expected a string, got " + describe(*n));
    std::string v = n->as_string()->get();
    if (!allowed.empty()) {
      bool ok = false;
      std::string list;
      for (const auto& a : allowed) {
        ok = ok || a == v;
        list += (list.empty() ? "" : " | ") + a;
      }
      if (!ok) fail(key(k), "\"" + v + "\" is not one of " + list);
    }
    return v;
  }

  const toml::table* table(const std::string& k) {
    const toml::node* n = node(k);
    if (!n) return nullptr;
    if (!n->is_table()) fail(key(k), "expected a table, got " + describe(*n));
    return n->as_table();
  }

  // Unknown keys are almost always typos; refuse them rather than silently ignore.
  void finish() const {
    for (const auto& [k, v] : t_) {
      std::string name(k.str());
      if (!used_.count(name)) fail(key(name), "unknown key");
    }
  }

 private:
  const toml::table& t_;
  std::string prefix_;
  std::set<std::string> used_;
};

const char* kRaceNames[] = {"White", "Black", "Asian", "Indian", "Others"};

// A short human name for a domain filter, e.g. "20-29" or "White".
std::string domain_name(const toml::table* filter, const std::string& fallback) {
  if (!filter) return fallback;
  std::string name;
  if (auto* age = filter->get_as<toml::array>("age");
      age && age->size() == 2 && (*age)[0].is_integer() && (*age)[1].is_integer()) {
    name = std::to_string((*age)[0].as_integer()->get()) + "-" +
           std::to_string((*age)[1].as_integer()->get());
  }
  if (auto* race = filter->get_as<toml::array>("race");
      race && race->size() == 1 && (*race)[0].is_integer()) {
    long long r = (*race)[0].as_integer()->get();
    std::string rn = (r >= 0 && r < 5) ? kRaceNames[r] : std::to_string(r);
    name = name.empty() ? rn : name + " " + rn;
  }
  return name.empty() ? fallback : name;
}

TaskConfig parse_task(const std::string& name, const toml::table& t) {
  const std::string prefix = "tasks." + name + ".";
  Reader r(t, prefix);
  TaskConfig task;
  task.name = name;
  for (const char* side : {"a", "b"})
    if (!r.has(side)) fail(prefix + side, "missing: each task needs label filters a and b");
  const toml::table* a = r.table("a");
  const toml::table* b = r.table("b");
  r.table("restrict");  // validated by parse_task_domains
  task.domains = parse_task_domains(t, name, "tasks." + name);
  task.domains.a_name = r.string("a_name", domain_name(a, "A"));
  task.domains.b_name = r.string("b_name", domain_name(b, "B"));
  task.weight = r.number("weight", 1.0, 0.0, 1e6);
  task.keep_colour = r.number("keep_colour", 0.0, 0.0, 1000.0);
  r.finish();
  return task;
}

}  // namespace

int TrainConfig::total_steps() const {
  int n = 0;
  for (const auto& s : stages) n += s.steps;
  return n;
}

TrainConfig parse_train_config(const std::string& toml_text, const std::string& origin) {
  // The daemon checks this too, but fc-eval and the plugin read configs without it.
  if (std::string why = fc::toml_limits_problem(toml_text); !why.empty())
    throw std::invalid_argument((origin.empty() ? "config" : origin) + ": " + why);
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << (origin.empty() ? "config" : origin) << ":" << e.source().begin.line << ":"
      << e.source().begin.column << ": " << e.description();
    throw std::invalid_argument(s.str());
  }

  TrainConfig c;
  Reader top(root, "");
  c.seed = static_cast<uint64_t>(top.integer("seed", 1, 0, (1LL << 62)));
  c.threads = static_cast<int>(top.integer("threads", 2, 1, 256));
  c.precision = top.string("precision", "fp32");
  if (c.precision != "fp32" && c.precision != "bf16")
    fail("precision", "\"" + c.precision + "\" is unknown (use fp32 or bf16)");
  c.model_name = top.string("model_name", c.model_name);
  if (c.model_name.empty() || c.model_name.find('/') != std::string::npos)
    fail("model_name", "\"" + c.model_name + "\" must be a plain file name without '/'");
  c.warm_start = top.string("warm_start", "");
  c.log_every = static_cast<int>(top.integer("log_every", 1, 1, 1000000));

  if (const toml::table* t = top.table("data")) {
    Reader r(*t, "data.");
    c.data_dir = r.string("dir", "");
    if (const toml::table* s = r.table("synthetic")) {
      Reader rs(*s, "data.synthetic.");
      c.synthetic = true;
      c.synthetic_n = static_cast<int>(rs.integer("n", 2000, 20, 1000000));
      c.synthetic_seed = static_cast<uint64_t>(rs.integer("seed", 1, 0, (1LL << 62)));
      rs.finish();
    }
    c.heldout_fraction = r.number("heldout_fraction", 0.1, 0.0, 0.9);
    c.augment = r.boolean("augment", true);
    c.loader_workers = static_cast<int>(r.integer("workers", 2, 1, 64));
    r.finish();
  }
  if (c.synthetic && !c.data_dir.empty()) fail("data", "set either dir or synthetic, not both");
  if (!c.synthetic && c.data_dir.empty())
    fail("data.dir",
         "missing: give a UTKFace-style folder or data.synthetic = {n = ..., seed = ...}");

  if (const toml::table* t = top.table("tasks")) {
    for (const auto& [k, v] : *t) {
      std::string name(k.str());
      if (!v.is_table()) fail("tasks." + name, "expected a table with a, b and restrict");
      c.tasks.push_back(parse_task(name, *v.as_table()));
    }
  }
  if (c.tasks.empty()) fail("tasks", "missing: define at least one [tasks.NAME] with a and b");

  if (const toml::table* t = top.table("generator")) {
    Reader r(*t, "generator.");
    c.g_width = static_cast<int>(r.integer("width", 32, 4, 512));
    c.g_blocks = static_cast<int>(r.integer("blocks", 6, 1, 32));
    c.conditioning = r.string("conditioning", "cin", {"cin", "channel4"});
    c.upsample =
        r.string("upsample", "resize_conv", {"resize_conv", "resize_conv_bilinear", "transposed"});
    c.upsample_given = t->contains("upsample");
    c.output = r.string("output", "image", {"image", "residual"});
    c.g_ema = r.number("ema", 0.0, 0.0, 0.99999);
    r.finish();
  }
  if (const toml::table* t = top.table("discriminator")) {
    Reader r(*t, "discriminator.");
    c.d_width = static_cast<int>(r.integer("width", 64, 4, 512));
    r.finish();
  }
  {
    static const toml::table empty;
    const toml::table* t = top.table("losses");
    Reader r(t ? *t : empty, "losses.");
    c.loss_preset = r.string("preset", "paper", {"paper", "original"});
    double def_cycle = c.loss_preset == "original" ? kOriginalLambdaCycle : kPaperLambdaCycle;
    c.lambda_cycle = r.number("lambda_cycle", def_cycle, 0.0, 1000.0);
    c.lambda_identity = r.number("lambda_identity", 0.5 * c.lambda_cycle, 0.0, 1000.0);
    c.lambda_gan = r.number("lambda_gan", 1.0, 0.0, 1000.0);
    c.cycle_noise = r.number("cycle_noise", 0.0, 0.0, 1.0);
    c.d_source_negatives = r.number("d_source_negatives", 0.0, 0.0, 10.0);
    c.lambda_cls = r.number("lambda_cls", 0.0, 0.0, 1000.0);
    c.cls_grey = r.string("cls_input", "colour", {"colour", "grey"}) == "grey";
    r.finish();
  }
  if (const toml::table* t = top.table("optimizer")) {
    Reader r(*t, "optimizer.");
    c.lr = r.number("lr", 2e-4, 1e-8, 1.0);
    c.beta1 = r.number("beta1", 0.5, 0.0, 0.9999);
    c.beta2 = r.number("beta2", 0.999, 0.0, 0.99999);
    c.decay_fraction = r.number("decay_fraction", 0.5, 0.0, 1.0);
    c.pool_size = static_cast<int>(r.integer("pool_size", 50, 0, 10000));
    r.finish();
  }
  if (const toml::table* t = top.table("balance")) {
    Reader r(*t, "balance.");
    c.balance_mode = r.string("mode", "fixed", {"fixed", "adaptive"});
    c.adaptive_ema = r.number("ema", 0.95, 0.0, 0.9999);
    c.adaptive_min_share = r.number("min_share", 0.2, 0.0, 1.0 / c.tasks.size());
    if (const toml::table* w = r.table("weights")) {
      Reader rw(*w, "balance.weights.");
      for (auto& task : c.tasks) task.weight = rw.number(task.name, task.weight, 0.0, 1e6);
      rw.finish();
    }
    r.finish();
  }
  double wsum = 0;
  for (const auto& task : c.tasks) wsum += task.weight;
  if (wsum <= 0) fail("balance.weights", "at least one task needs a positive weight");

  if (const toml::node* n = top.node("stages")) {
    const toml::array* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables())
      fail("stages", "expected [[stages]] tables with size, steps and batch");
    for (size_t i = 0; i < arr->size(); ++i) {
      Reader r(*(*arr)[i].as_table(), "stages[" + std::to_string(i) + "].");
      StageConfig s;
      s.size = static_cast<int>(r.integer("size", 64, 8, 1024));
      if (s.size % 4 != 0) fail(r.key("size"), std::to_string(s.size) + " is not divisible by 4");
      s.steps = static_cast<int>(r.integer("steps", 1000, 1, 100000000));
      s.batch = static_cast<int>(r.integer("batch", 4, 1, 1024));
      r.finish();
      if (!c.stages.empty() && s.size < c.stages.back().size)
        fail(r.key("size"), std::to_string(s.size) + " is smaller than the previous stage's " +
                                std::to_string(c.stages.back().size) +
                                "; progressive stages must not shrink");
      c.stages.push_back(s);
    }
  }
  if (c.stages.empty()) fail("stages", "missing: add at least one [[stages]] size/steps/batch");

  if (const toml::table* t = top.table("checkpoint")) {
    Reader r(*t, "checkpoint.");
    c.checkpoint_every = static_cast<int>(r.integer("every", 500, 1, 100000000));
    c.keep_last = static_cast<int>(r.integer("keep_last", 3, 1, 1000));
    r.finish();
  }
  if (const toml::table* t = top.table("eval")) {
    Reader r(*t, "eval.");
    c.eval_enabled = r.boolean("enabled", true);
    c.judge_steps = static_cast<int>(r.integer("judge_steps", 300, 1, 1000000));
    c.judge_width = static_cast<int>(r.integer("judge_width", 16, 4, 256));
    c.judge_images = static_cast<int>(r.integer("judge_images", 6000, 0, 10000000));
    c.judge_path = r.string("judge_path", "");
    c.eval_faces = static_cast<int>(r.integer("faces", 64, 1, 100000));
    c.sample_faces = static_cast<int>(r.integer("sample_faces", 4, 1, 32));
    r.finish();
  }
  top.finish();
  return c;
}

}  // namespace fc::train
