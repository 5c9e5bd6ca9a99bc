#include "data_parallel.h"

#include <stdexcept>

#include "facecycle/core/enum_names.h"
#include "facecycle/core/loopback.h"

#if FACECYCLE_HAVE_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace fc::train {

#if FACECYCLE_HAVE_C10D

bool data_parallel_available() { return true; }

namespace {

// Every loss a step reports, in one order on every worker (the optional ones are present on
// all workers alike: they follow the task's config).
template <typename F>
void for_each_loss(StepLosses& l, F f) {
  for (double* v : {&l.loss_G, &l.loss_G_A, &l.loss_G_B, &l.loss_cycle_A, &l.loss_cycle_B,
                    &l.loss_idt_A, &l.loss_idt_B, &l.loss_D_A, &l.loss_D_B})
    f(*v);
  for (std::optional<double>* v :
       {&l.loss_colour, &l.loss_smooth, &l.loss_local_tint, &l.loss_shape, &l.loss_cls_fake,
        &l.loss_cls_real, &l.loss_G_local, &l.loss_D_local, &l.loss_hold})
    if (*v) f(**v);
}

std::vector<torch::Tensor> gradients_of(const std::vector<torch::optim::Optimizer*>& optimizers) {
  std::vector<torch::Tensor> grads;
  for (torch::optim::Optimizer* o : optimizers)
    if (o)
      for (auto& group : o->param_groups())
        for (auto& p : group.params())
          if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

}  // namespace

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

namespace {

std::shared_ptr<gloo::transport::Device> gloo_device(const WorkerPlacement& p) {
  if (!p.interface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(p.interface);
  if (is_loopback_address(p.master_addr))
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// c10::Error's what() carries a C++ backtrace; the user needs its first line.
std::string reason(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string why = c10 ? c10->what_without_backtrace() : e.what();
  return why.substr(0, why.find('\n'));
}

}  // namespace

DataParallel::DataParallel(const WorkerPlacement& placement, DistBackend backend,
                           std::chrono::seconds timeout)
    : placement_(placement), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  if (backend != DistBackend::kGloo)
    throw std::invalid_argument("distributed.backend = \"" + enum_name(backend) +
                                "\": this build has no NCCL process group (Debian's LibTorch "
                                "is CPU-only); use \"gloo\"");
  const std::string where = placement.master_addr + ":" + std::to_string(placement.master_port);
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(placement.master_port);
    o.isServer = placement.rank == 0;
    o.numWorkers = placement.world_size;
    o.waitWorkers = true;
    o.timeout = std::chrono::seconds(placement.rendezvous_timeout_s);
    impl_->store = c10::make_intrusive<c10d::TCPStore>(placement.master_addr, o);
    impl_->store->setTimeout(timeout);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = timeout;
    options->devices.push_back(gloo_device(placement));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, placement.rank,
                                                               placement.world_size, options);
  } catch (const std::exception& e) {
    throw std::runtime_error("data-parallel worker " + std::to_string(placement.rank) + " of " +
                             std::to_string(placement.world_size) + ": no rendezvous at " + where +
                             " within " + std::to_string(placement.rendezvous_timeout_s) +
                             " s: " + reason(e));
  }
}

DataParallel::~DataParallel() = default;

namespace {

// Runs one collective, turning c10d's errors into one that says which worker saw what.
template <typename F>
void collective(const WorkerPlacement& p, std::chrono::seconds timeout, const char* what, F f) {
  try {
    f();
  } catch (const std::exception& e) {
    throw std::runtime_error("data-parallel worker " + std::to_string(p.rank) + " of " +
                             std::to_string(p.world_size) + ": " + what +
                             " failed: another worker has died or has not answered within " +
                             std::to_string(timeout.count()) + " s (" + reason(e) + ")");
  }
}

}  // namespace

void DataParallel::average_gradients(const std::vector<torch::optim::Optimizer*>& optimizers) {
  const std::vector<torch::Tensor> grads = gradients_of(optimizers);
  if (grads.empty()) return;
  std::vector<torch::Tensor> flat_parts;
  for (const auto& g : grads) flat_parts.push_back(g.reshape({-1}));
  // One buffer, one all-reduce: per-tensor calls cost a round trip each. Gloo reduces CPU
  // tensors, so CUDA gradients travel through host memory.
  std::vector<torch::Tensor> flat{torch::cat(flat_parts).to(torch::kCPU)};
  collective(placement_, timeout_, "the gradient all-reduce",
             [&] { impl_->group->allreduce(flat)->wait(); });
  flat[0].div_(world_size());
  int64_t offset = 0;
  for (const auto& g : grads) {
    const int64_t n = g.numel();
    g.copy_(flat[0].narrow(0, offset, n).view(g.sizes()));
    offset += n;
  }
}

bool DataParallel::average_losses(StepLosses& losses, int task, bool stop_requested) {
  std::vector<double> values;
  for_each_loss(losses, [&](double& v) { values.push_back(v); });
  values.push_back(task);
  values.push_back(stop_requested ? 1.0 : 0.0);
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kFloat64)};
  collective(placement_, timeout_, "the loss all-reduce",
             [&] { impl_->group->allreduce(t)->wait(); });
  const double* sum = t[0].data_ptr<double>();
  const size_t n = values.size() - 2;
  if (sum[n] != double(task) * world_size())
    throw std::runtime_error("data-parallel worker " + std::to_string(rank()) +
                             ": the workers trained different tasks in one step (this one task " +
                             std::to_string(task) + "); their balancers have diverged");
  size_t i = 0;
  for_each_loss(losses, [&](double& v) { v = sum[i++] / world_size(); });
  return sum[n + 1] > 0;
}

void DataParallel::check_same(double value, const std::string& what) {
  std::vector<torch::Tensor> t{torch::tensor({value, -value}, torch::kFloat64)};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::MAX;
  collective(placement_, timeout_, "a consistency check",
             [&] { impl_->group->allreduce(t, o)->wait(); });
  const double hi = t[0][0].item<double>(), lo = -t[0][1].item<double>();
  if (hi != lo)
    throw std::runtime_error("data-parallel workers disagree on " + what + ": from " +
                             std::to_string(lo) + " to " + std::to_string(hi));
}

void DataParallel::barrier(std::chrono::seconds wait) {
  c10d::BarrierOptions o;
  o.timeout = wait;
  collective(placement_, wait, "a barrier", [&] { impl_->group->barrier(o)->wait(); });
}

void DataParallel::send_to_leader(const std::string& key, const std::string& bytes) {
  collective(placement_, timeout_, "sending to rank 0", [&] {
    impl_->store->set(key + "/" + std::to_string(rank()),
                      std::vector<uint8_t>(bytes.begin(), bytes.end()));
  });
}

std::vector<std::string> DataParallel::collect_at_leader(const std::string& key) {
  std::vector<std::string> out;
  for (int r = 1; r < world_size(); ++r) {
    const std::string k = key + "/" + std::to_string(r);
    collective(placement_, timeout_, "collecting from the workers", [&] {
      const std::vector<uint8_t> v = impl_->store->get(k);
      out.emplace_back(v.begin(), v.end());
      impl_->store->deleteKey(k);
    });
  }
  return out;
}

#else  // no c10d in this build: one worker only

bool data_parallel_available() { return false; }

struct DataParallel::Impl {};

DataParallel::DataParallel(const WorkerPlacement& placement, DistBackend,
                           std::chrono::seconds timeout)
    : placement_(placement), timeout_(timeout) {
  throw std::invalid_argument(
      "distributed.workers > 1: this build has no c10d (LibTorch's distributed headers and the "
      "Gloo headers, Debian libgloo-dev, were not found when it was configured)");
}
DataParallel::~DataParallel() = default;
void DataParallel::average_gradients(const std::vector<torch::optim::Optimizer*>&) {}
bool DataParallel::average_losses(StepLosses&, int, bool stop) { return stop; }
void DataParallel::check_same(double, const std::string&) {}
void DataParallel::barrier(std::chrono::seconds) {}
void DataParallel::send_to_leader(const std::string&, const std::string&) {}
std::vector<std::string> DataParallel::collect_at_leader(const std::string&) { return {}; }

#endif

}  // namespace fc::train
