#include "facecycle/core/torch_threads.h"

#include <ATen/Parallel.h>

namespace fc {

void use_torch_threads(int n) {
  if (n > 0) at::set_num_threads(n);
}

}  // namespace fc
