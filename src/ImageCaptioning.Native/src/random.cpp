// The state of libtorch's default CPU generator, saved and restored for resumable training (torch.get_rng_state /
// torch.set_rng_state). The generator's mutex is held as PyTorch does, because other threads may draw from it.
#include "shim.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

IC_API TensorHandle ic_get_rng_state()
{
    IC_TRY
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    return ic::wrap(generator.get_state());
    IC_CATCH(nullptr)
}

IC_API int32_t ic_set_rng_state(TensorHandle state)
{
    IC_TRY
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(*state);
    return 0;
    IC_CATCH(-1)
}
