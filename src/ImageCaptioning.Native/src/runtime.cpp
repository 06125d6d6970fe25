// Process-wide state: errors, threads, seeds, autograd mode, devices.
#include "shim.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>

namespace {
thread_local char* last_error = nullptr;
}

void ic::set_error(const char* message)
{
    std::free(last_error);
    last_error = ::strdup(message == nullptr ? "(no message)" : message);
}

IC_API char* ic_take_error()
{
    char* message = last_error;
    last_error = nullptr;
    return message;
}

IC_API void ic_free_string(char* s) { std::free(s); }

IC_API char* ic_build_config()
{
    IC_TRY
    std::string text = std::string("libtorch ") + TORCH_VERSION + "\n" + at::show_config();
    return ::strdup(text.c_str());
    IC_CATCH(nullptr)
}

IC_API int32_t ic_set_num_threads(int32_t n) { IC_RETURN_OK(at::set_num_threads(n)) }
IC_API int32_t ic_get_num_threads() { return at::get_num_threads(); }
IC_API int32_t ic_set_num_interop_threads(int32_t n) { IC_RETURN_OK(at::set_num_interop_threads(n)) }

IC_API int32_t ic_manual_seed(uint64_t seed)
{
    IC_TRY
    at::manual_seed(seed);
    if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
    return 0;
    IC_CATCH(-1)
}

IC_API int32_t ic_set_grad_enabled(int32_t enabled)
{
    bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(enabled != 0);
    return previous ? 1 : 0;
}

IC_API int32_t ic_is_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }

// oneDNN (MKL-DNN) is compiled into the CPU libtorch; "enabled" is torch.backends.mkldnn.enabled.
IC_API int32_t ic_mkldnn_is_available() { return at::hasMKLDNN() ? 1 : 0; }
IC_API int32_t ic_mkldnn_is_enabled() { return at::globalContext().userEnabledMkldnn() ? 1 : 0; }
IC_API void ic_mkldnn_set_enabled(int32_t enabled) { at::globalContext().setUserEnabledMkldnn(enabled != 0); }

IC_API int32_t ic_cuda_is_available() { IC_TRY return torch::cuda::is_available() ? 1 : 0; IC_CATCH(0) }
IC_API int32_t ic_cuda_device_count() { IC_TRY return static_cast<int32_t>(torch::cuda::device_count()); IC_CATCH(0) }
IC_API int32_t ic_cuda_synchronize(int32_t device_index) { IC_RETURN_OK(torch::cuda::synchronize(device_index)) }

// Raises a C++ exception of a plain std:: type inside an entry point; the tests use it to prove the barrier holds
// for exceptions that are not c10::Error.
IC_API int32_t ic_debug_throw(int32_t kind)
{
    IC_TRY
    if (kind == 0) throw std::runtime_error("std::runtime_error raised on purpose");
    if (kind == 1) throw 42;
    TORCH_CHECK(false, "c10::Error raised on purpose");
    IC_CATCH(-1)
}
