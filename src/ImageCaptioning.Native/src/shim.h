// Common definitions of the C ABI shim over ATen.
//
// Contract with the managed side (ImageCaptioning.Torch.NativeMethods):
//  * A tensor crosses the boundary as an opaque handle: a heap-allocated at::Tensor owned by the caller,
//    released with ic_tensor_free.
//  * No C++ exception ever crosses the boundary. Every entry point catches everything and records the message in
//    a thread-local slot; the managed side takes it with ic_take_error and frees it with ic_free_string.
//  * Failure is signalled in-band: functions returning a handle return nullptr, functions returning int return -1.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <string>
#include <vector>

#define IC_API extern "C" __attribute__((visibility("default")))

typedef at::Tensor* TensorHandle;

namespace ic {

void set_error(const char* message);

inline TensorHandle wrap(at::Tensor&& t) { return new at::Tensor(std::move(t)); }
inline TensorHandle wrap(const at::Tensor& t) { return new at::Tensor(t); }

inline c10::Device device_of(int32_t device_type, int32_t device_index)
{
    return c10::Device(static_cast<c10::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index));
}

// No requires_grad here: ATen factories ignore it (only torch:: factories honour it), so callers set it on the result.
inline at::TensorOptions options_of(int32_t dtype, int32_t device_type, int32_t device_index)
{
    return at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)).device(device_of(device_type, device_index));
}

inline std::vector<at::Tensor> tensors_of(const TensorHandle* handles, int32_t count)
{
    std::vector<at::Tensor> result;
    result.reserve(count);
    for (int32_t i = 0; i < count; ++i) result.push_back(*handles[i]);
    return result;
}

inline c10::optional<at::Tensor> optional_of(TensorHandle handle)
{
    return handle == nullptr ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(*handle);
}

} // namespace ic

// Wraps an entry point's body. c10::Error's message is taken without the C++ backtrace: the managed exception
// carries its own stack.
#define IC_TRY try {
#define IC_CATCH(failure)                                                         \
    }                                                                             \
    catch (const c10::Error& e) { ic::set_error(e.what_without_backtrace()); }    \
    catch (const std::exception& e) { ic::set_error(e.what()); }                  \
    catch (...) { ic::set_error("unknown native exception in libtorch"); }        \
    return failure;

#define IC_RETURN_TENSOR(expr) IC_TRY return ic::wrap(expr); IC_CATCH(nullptr)
#define IC_RETURN_OK(stmt) IC_TRY stmt; return 0; IC_CATCH(-1)
