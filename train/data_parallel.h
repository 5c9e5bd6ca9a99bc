// Data-parallel training with LibTorch's c10d, PyTorch's DistributedDataParallel recipe by
// hand: every worker holds the same networks, trains on its own slice of each batch, and the
// gradients are averaged over all workers before every optimiser step, so the weights stay
// identical everywhere. Workers meet through a c10d TCPStore hosted by rank 0.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "loss_recorder.h"
#include "train_choices.h"
#include "worker_placement.h"

namespace fc::train {

// Whether this build can run more than one worker (LibTorch's c10d and the Gloo headers were
// found: FACECYCLE_HAVE_C10D).
bool data_parallel_available();

// One worker's connection to the others. Every collective here throws std::runtime_error naming
// this worker when a peer is gone (its socket closed: at once) or silent for longer than the
// timeout, so a dead worker ends the job with an error instead of a hang.
class DataParallel {
 public:
  // Rendezvous (waits up to placement.rendezvous_timeout_s for all workers) and the process
  // group. Throws std::invalid_argument for a backend this build lacks.
  DataParallel(const WorkerPlacement& placement, DistBackend backend, std::chrono::seconds timeout);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return placement_.rank; }
  int world_size() const { return placement_.world_size; }
  bool leads() const { return placement_.rank == 0; }  // rank 0 writes every file

  // Averages the gradients of these optimisers' parameters over all workers in one all-reduce
  // (nullptr entries are skipped; parameters without a gradient stay without one).
  void average_gradients(const std::vector<torch::optim::Optimizer*>& optimizers);
  // Averages one step's losses over the workers (each is a mean over its slice, so this is the
  // loss of the whole batch), checks that every worker trained `task`, and returns whether any
  // worker was asked to stop, so that all stop after the same step.
  bool average_losses(StepLosses& losses, int task, bool stop_requested);
  // Throws unless every worker holds the same value; `what` names it in the error.
  void check_same(double value, const std::string& what);
  // Waits until every worker arrives, for up to `wait`: workers pass it while rank 0 alone does
  // slow work (the judge, evaluations, pictures). A dead worker still fails it at once.
  void barrier(std::chrono::seconds wait);

  // Bytes from every other worker to rank 0, through the store: ranks > 0 send, rank 0
  // collects them in rank order (index r - 1). Used for per-worker checkpoint parts.
  void send_to_leader(const std::string& key, const std::string& bytes);
  std::vector<std::string> collect_at_leader(const std::string& key);

 private:
  struct Impl;
  WorkerPlacement placement_;
  std::chrono::seconds timeout_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fc::train
