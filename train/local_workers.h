// The other workers of a data-parallel job on this host: fc-train, run as rank 0, starts ranks
// 1..N-1 as child processes of the same program, so one command trains with N workers.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fc::train {

// Set in the environment of the workers LocalWorkers starts: their parent's pid.
constexpr const char* kParentEnv = "FC_TRAIN_PARENT_PID";

// In a worker that LocalWorkers started: the kernel kills it when its parent (rank 0) dies,
// since nothing is left for it to do and it might otherwise wait out the rendezvous timeout.
// False when the parent is already gone. True in any other process.
bool end_with_parent();

// A TCP port on 127.0.0.1 that the kernel just handed out (free until someone else takes it).
int free_local_port();

class LocalWorkers {
 public:
  // Starts `program` with `args` plus --rank r --world-size N --master-addr 127.0.0.1
  // --master-port port, for r = 1 .. world_size - 1. Throws std::runtime_error if one cannot
  // be started (those already started are stopped).
  LocalWorkers(const std::string& program, const std::vector<std::string>& args, int world_size,
               int port);
  ~LocalWorkers();  // stops workers still running (stop())
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  const std::vector<pid_t>& pids() const { return pids_; }
  // Waits for every worker to end; "" when all exited with status 0, else what went wrong with
  // each ("worker 1 (pid 123) was killed by signal 9").
  std::string wait();
  // SIGTERM to the workers still running, SIGKILL after `grace_s`, and reaps them; says how
  // each one ended, as wait() does.
  std::string stop(int grace_s = 5);

 private:
  std::string describe(size_t i, int status) const;
  std::vector<pid_t> pids_;
  std::vector<bool> reaped_;
};

}  // namespace fc::train
