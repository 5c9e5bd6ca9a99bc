// torch's intra-op thread count, set in one place. No torch in this header.
#pragma once

namespace fc {

// Sets torch's intra-op threads for the calling thread. With OpenMP the count is per thread:
// a thread that runs torch work must call this itself, or it runs at OpenMP's default (every
// core). n <= 0 leaves the count as it is.
void use_torch_threads(int n);

}  // namespace fc
