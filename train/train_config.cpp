#include "train_config.h"

#include <sstream>
#include <stdexcept>

#include "facecycle/core/run_labels.h"
#include "facecycle/core/toml_limits.h"
#include "toml_reader.h"

namespace fc::train {
namespace {

// The CycleGAN paper's cycle weight, and the lower one we use for preset = "original": the
// original age/race work trades cycle consistency for stronger edits. 5 halves the paper's
// weight, which in our runs still keeps identity while letting wrinkles and tone change.
constexpr double kPaperLambdaCycle = 10.0;
constexpr double kOriginalLambdaCycle = 5.0;

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

// A race task's domains each name one race, and not the same one: the judge compares the two.
bool names_two_races(const TaskDomains& d) {
  return d.a.races.size() == 1 && d.b.races.size() == 1 && d.a.races != d.b.races;
}

// `kind` is declared; configs written before the key existed get the kind their filters meant
// then: race when a and b name one different race each, else age.
TaskKind parse_task_kind(TomlReader& r, const TaskDomains& d) {
  const TaskKind fallback = names_two_races(d) ? TaskKind::kRace : TaskKind::kAge;
  const TaskKind kind = r.choice("kind", fallback);
  if (kind == TaskKind::kRace && !names_two_races(d))
    fail(r.key("kind"), "a race task needs a and b to name one race each, different ones");
  return kind;
}

TaskConfig parse_task(const std::string& name, const toml::table& t, const TrainConfig& c) {
  const std::string prefix = "tasks." + name + ".";
  TomlReader r(t, prefix);
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
  task.kind = parse_task_kind(r, task.domains);
  task.weight = r.number("weight", 1.0, 0.0, 1e6);
  task.keep_colour = r.number("keep_colour", 0.0, 0.0, 1000.0);
  task.smooth_change = r.number("smooth_change", 0.0, 0.0, 1000.0);
  task.smooth_radius = static_cast<int>(r.integer("smooth_radius", 1, 1, 8));
  task.keep_local_colour = r.number("keep_local_colour", 0.0, 0.0, 1000.0);
  task.keep_shape = r.number("keep_shape", 0.0, 0.0, 1000.0);
  task.keep_shape_on = r.choice("keep_shape_on", ShapeSides::kBoth);
  task.lambda_cycle = r.number("lambda_cycle", c.lambda_cycle, 0.0, 1000.0);
  task.lambda_cls = r.number("lambda_cls", c.lambda_cls, 0.0, 1000.0);
  task.cls_input = r.choice("cls_input", c.cls_input);
  task.cls_downsample = static_cast<int>(r.integer("cls_downsample", 1, 1, 8));
  task.cls_width = static_cast<int>(r.integer("cls_width", 0, 0, 512));
  task.cls_lr_scale = r.number("cls_lr_scale", 1.0, 0.01, 100.0);
  task.cls_steps = static_cast<int>(r.integer("cls_steps", 1, 1, 8));
  task.hold = r.number("hold", 0.0, 0.0, 1000.0);
  r.finish();
  return task;
}

toml::table parse_toml(const std::string& toml_text, const std::string& origin) {
  // The daemon checks this too, but fc-eval and the plugin read configs without it.
  if (std::string why = fc::toml_limits_problem(toml_text); !why.empty())
    throw std::invalid_argument((origin.empty() ? "config" : origin) + ": " + why);
  try {
    return toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << (origin.empty() ? "config" : origin) << ":" << e.source().begin.line << ":"
      << e.source().begin.column << ": " << e.description();
    throw std::invalid_argument(s.str());
  }
}

void parse_top(TomlReader& top, TrainConfig& c) {
  c.seed = static_cast<uint64_t>(top.integer("seed", 1, 0, (1LL << 62)));
  c.threads = static_cast<int>(top.integer("threads", 2, 1, 256));
  c.precision = top.choice("precision", Precision::kFp32);
  // The trainer takes cpu or cuda only: auto is the translator's choice, not a training one.
  const std::string device = top.string("device", "cpu");
  const auto choice = fc::enum_from_string<fc::DeviceChoice>(device);
  if (!choice || *choice == fc::DeviceChoice::kAuto)
    fail("device", "\"" + device + "\" is not one of cpu, cuda");
  c.device = *choice;
  c.model_name = top.string("model_name", c.model_name);
  if (c.model_name.empty() || c.model_name.find('/') != std::string::npos)
    fail("model_name", "\"" + c.model_name + "\" must be a plain file name without '/'");
  c.warm_start = top.string("warm_start", "");
  c.run_name = top.string("run_name", "");
  if (std::string why = fc::run_name_problem(c.run_name); !why.empty()) fail("run_name", why);
  c.tags = top.strings("tags");
  if (std::string why = fc::tags_problem(c.tags); !why.empty()) fail("tags", why);
  c.log_every = static_cast<int>(top.integer("log_every", 1, 1, 1000000));
}

void parse_data(const toml::table* t, TrainConfig& c) {
  if (t) {
    TomlReader r(*t, "data.");
    c.data_dir = r.string("dir", "");
    if (const toml::table* s = r.table("synthetic")) {
      TomlReader rs(*s, "data.synthetic.");
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
}

void parse_tasks(const toml::table* t, TrainConfig& c) {
  if (t) {
    for (const auto& [k, v] : *t) {
      std::string name(k.str());
      if (!v.is_table()) fail("tasks." + name, "expected a table with a, b and restrict");
      c.tasks.push_back(parse_task(name, *v.as_table(), c));
    }
  }
  if (c.tasks.empty()) fail("tasks", "missing: define at least one [tasks.NAME] with a and b");
}

void parse_networks(const toml::table* generator, const toml::table* discriminator,
                    TrainConfig& c) {
  if (generator) {
    TomlReader r(*generator, "generator.");
    c.g_width = static_cast<int>(r.integer("width", 32, 4, 512));
    c.g_blocks = static_cast<int>(r.integer("blocks", 6, 1, 32));
    c.conditioning = r.choice("conditioning", Conditioning::kCondInstanceNorm);
    c.upsample = r.choice("upsample", Upsampling::kResizeConv);
    c.upsample_given = generator->contains("upsample");
    c.output = r.choice("output", Output::kImage);
    c.chroma_grid = static_cast<int>(r.integer("chroma_grid", 0, 0, 64));
    if (c.chroma_grid > 0 && c.output != Output::kResidual)
      fail("generator.chroma_grid", "needs output = \"residual\" (it filters the change)");
    c.desaturation_map = r.boolean("desaturation_map", false);
    if (c.desaturation_map && c.output != Output::kResidual)
      fail("generator.desaturation_map", "needs output = \"residual\" (it adds to the change)");
    c.g_ema = r.number("ema", 0.0, 0.0, 0.99999);
    c.g_train = r.choice("train", GeneratorTraining::kAll);
    if (c.g_train == GeneratorTraining::kConditionNorms &&
        c.conditioning != Conditioning::kCondInstanceNorm)
      fail("generator.train", "\"condition_norms\" needs conditioning = \"cin\"");
    r.finish();
  }
  if (discriminator) {
    TomlReader r(*discriminator, "discriminator.");
    c.d_width = static_cast<int>(r.integer("width", 64, 4, 512));
    c.d_local_layers = static_cast<int>(r.integer("local_layers", 0, 0, 3));
    c.lambda_local = r.number("local_weight", 1.0, 0.0, 1000.0);
    r.finish();
  }
}

void parse_losses(const toml::table* t, TrainConfig& c) {
  static const toml::table empty;
  TomlReader r(t ? *t : empty, "losses.");
  c.loss_preset = r.choice("preset", LossPreset::kPaper);
  const double def_cycle =
      c.loss_preset == LossPreset::kOriginal ? kOriginalLambdaCycle : kPaperLambdaCycle;
  c.lambda_cycle = r.number("lambda_cycle", def_cycle, 0.0, 1000.0);
  c.lambda_identity = r.number("lambda_identity", 0.5 * c.lambda_cycle, 0.0, 1000.0);
  c.lambda_gan = r.number("lambda_gan", 1.0, 0.0, 1000.0);
  c.cycle_noise = r.number("cycle_noise", 0.0, 0.0, 1.0);
  c.d_source_negatives = r.number("d_source_negatives", 0.0, 0.0, 10.0);
  c.lambda_cls = r.number("lambda_cls", 0.0, 0.0, 1000.0);
  c.cls_input = r.choice("cls_input", ClassifierInput::kColour);
  r.finish();
}

void parse_optimizer(const toml::table* t, TrainConfig& c) {
  if (!t) return;
  TomlReader r(*t, "optimizer.");
  c.lr = r.number("lr", 2e-4, 1e-8, 1.0);
  c.beta1 = r.number("beta1", 0.5, 0.0, 0.9999);
  c.beta2 = r.number("beta2", 0.999, 0.0, 0.99999);
  c.decay_fraction = r.number("decay_fraction", 0.5, 0.0, 1.0);
  c.pool_size = static_cast<int>(r.integer("pool_size", 50, 0, 10000));
  c.d_warmup_steps = r.integer("d_warmup_steps", 0, 0, 1000000);
  r.finish();
}

void parse_balance(const toml::table* t, TrainConfig& c) {
  if (t) {
    TomlReader r(*t, "balance.");
    c.balance_mode = r.choice("mode", BalanceMode::kFixed);
    c.adaptive_ema = r.number("ema", 0.95, 0.0, 0.9999);
    c.adaptive_min_share = r.number("min_share", 0.2, 0.0, 1.0 / c.tasks.size());
    if (const toml::table* w = r.table("weights")) {
      TomlReader rw(*w, "balance.weights.");
      for (auto& task : c.tasks) task.weight = rw.number(task.name, task.weight, 0.0, 1e6);
      rw.finish();
    }
    r.finish();
  }
  double wsum = 0;
  for (const auto& task : c.tasks) wsum += task.weight;
  if (wsum <= 0) fail("balance.weights", "at least one task needs a positive weight");
}

void parse_stages(const toml::node* n, TrainConfig& c) {
  if (n) {
    const toml::array* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables())
      fail("stages", "expected [[stages]] tables with size, steps and batch");
    for (size_t i = 0; i < arr->size(); ++i) {
      TomlReader r(*(*arr)[i].as_table(), "stages[" + std::to_string(i) + "].");
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
}

void parse_checkpoint(const toml::table* t, TrainConfig& c) {
  if (!t) return;
  TomlReader r(*t, "checkpoint.");
  c.checkpoint_every = static_cast<int>(r.integer("every", 500, 1, 100000000));
  c.keep_last = static_cast<int>(r.integer("keep_last", 3, 1, 1000));
  r.finish();
}

void parse_eval(const toml::table* t, TrainConfig& c) {
  if (!t) return;
  TomlReader r(*t, "eval.");
  c.eval_enabled = r.boolean("enabled", true);
  c.judge_steps = static_cast<int>(r.integer("judge_steps", 300, 1, 1000000));
  c.judge_width = static_cast<int>(r.integer("judge_width", 16, 4, 256));
  c.judge_images = static_cast<int>(r.integer("judge_images", 6000, 0, 10000000));
  c.judge_path = r.string("judge_path", "");
  c.eval_faces = static_cast<int>(r.integer("faces", 64, 1, 100000));
  c.sample_faces = static_cast<int>(r.integer("sample_faces", 4, 1, 32));
  r.finish();
}

void parse_distributed(const toml::table* t, TrainConfig& c) {
  if (!t) return;
  TomlReader r(*t, "distributed.");
  c.workers = static_cast<int>(r.integer("workers", 1, 1, 1024));
  c.dist_backend = r.choice("backend", DistBackend::kGloo);
  c.dist_timeout_s = static_cast<int>(r.integer("timeout_s", 60, 1, 86400));
  r.finish();
}

// A held task keeps the warm start's edit, so it needs one; and its steps report no adversarial
// losses, which an adaptive balancer would read as a task that needs no more steps.
void check_held_tasks(const TrainConfig& c) {
  for (const auto& task : c.tasks) {
    if (task.hold <= 0) continue;
    const std::string key = "tasks." + task.name + ".hold";
    if (c.warm_start.empty())
      fail(key, "holds the warm start's edit: set warm_start to the model whose edit it keeps");
    if (c.balance_mode != BalanceMode::kFixed)
      fail(key, "needs [balance] mode = \"fixed\" (a held task has no adversarial losses)");
    if (c.g_train != GeneratorTraining::kAll)
      fail(key,
           "needs [generator] train = \"all\" (with only the condition norms training, "
           "a task's edit is kept by giving it weight = 0)");
  }
}

}  // namespace

int TrainConfig::total_steps() const {
  int n = 0;
  for (const auto& s : stages) n += s.steps;
  return n;
}

GeneratorOptions TrainConfig::generator_options() const {
  GeneratorOptions o;
  o.width = g_width;
  o.blocks = g_blocks;
  o.num_conditions = static_cast<int>(2 * tasks.size());
  o.conditioning = conditioning;
  o.upsampling = upsample;
  o.output = output;
  o.chroma_grid = chroma_grid;
  o.desaturation_map = desaturation_map;
  return o;
}

// Sections are read in this order because later ones check against earlier ones: tasks take
// their loss weights from [losses] unless they set their own, balance weights name the tasks,
// and min_share depends on how many there are.
TrainConfig parse_train_config(const std::string& toml_text, const std::string& origin) {
  const toml::table root = parse_toml(toml_text, origin);
  TrainConfig c;
  TomlReader top(root, "");
  parse_top(top, c);
  parse_data(top.table("data"), c);
  parse_losses(top.table("losses"), c);
  parse_tasks(top.table("tasks"), c);
  parse_networks(top.table("generator"), top.table("discriminator"), c);
  parse_optimizer(top.table("optimizer"), c);
  parse_balance(top.table("balance"), c);
  parse_stages(top.node("stages"), c);
  parse_checkpoint(top.table("checkpoint"), c);
  parse_eval(top.table("eval"), c);
  parse_distributed(top.table("distributed"), c);
  top.finish();
  check_held_tasks(c);
  return c;
}

}  // namespace fc::train
