// Where one process sits in a data-parallel training job: its rank, how many workers there are
// and where they meet. No torch here (trainer.h and fc-train include it).
#pragma once

#include <string>

namespace fc::train {

struct WorkerPlacement {
  int rank = 0;
  int world_size = 1;  // 1: a plain single-process run, no c10d at all
  // Rank 0 hosts the rendezvous (a c10d TCPStore) at this address and port.
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // The network interface Gloo binds to (e.g. "eth0"); empty: 127.0.0.1 when master_addr is a
  // loopback address, else the address this host's name resolves to.
  std::string interface;
  int rendezvous_timeout_s = 300;  // how long workers wait for each other to start
};

}  // namespace fc::train
