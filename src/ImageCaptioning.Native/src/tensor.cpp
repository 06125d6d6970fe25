// Tensor lifetime, creation, copies to and from managed memory, properties and autograd.
#include "shim.h"

#include <cstring>
#include <sstream>

IC_API void ic_tensor_free(TensorHandle t) { delete t; }

IC_API TensorHandle ic_tensor_from_data(const void* data, int32_t dtype, const int64_t* shape, int32_t ndim,
                                        int32_t device_type, int32_t device_index, int32_t requires_grad)
{
    IC_TRY
    auto cpu = at::empty(at::IntArrayRef(shape, ndim), at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
    std::memcpy(cpu.data_ptr(), data, cpu.nbytes());
    auto result = device_type == static_cast<int32_t>(c10::DeviceType::CPU)
        ? cpu
        : cpu.to(ic::device_of(device_type, device_index));
    if (requires_grad) result.set_requires_grad(true);
    return ic::wrap(std::move(result));
    IC_CATCH(nullptr)
}

IC_API TensorHandle ic_tensor_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                                    int32_t device_index, int32_t requires_grad)
{
    IC_RETURN_TENSOR(at::empty(at::IntArrayRef(shape, ndim), ic::options_of(dtype, device_type, device_index)).set_requires_grad(requires_grad != 0))
}

IC_API TensorHandle ic_tensor_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype,
                                   int32_t device_type, int32_t device_index, int32_t requires_grad)
{
    IC_RETURN_TENSOR(at::full(at::IntArrayRef(shape, ndim), value, ic::options_of(dtype, device_type, device_index)).set_requires_grad(requires_grad != 0))
}

IC_API TensorHandle ic_tensor_arange(double start, double end, double step, int32_t dtype, int32_t device_type,
                                     int32_t device_index)
{
    IC_RETURN_TENSOR(at::arange(start, end, step, ic::options_of(dtype, device_type, device_index)))
}

IC_API TensorHandle ic_tensor_rand(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                                   int32_t device_index)
{
    IC_RETURN_TENSOR(at::rand(at::IntArrayRef(shape, ndim), ic::options_of(dtype, device_type, device_index)))
}

IC_API TensorHandle ic_tensor_randn(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                                    int32_t device_index)
{
    IC_RETURN_TENSOR(at::randn(at::IntArrayRef(shape, ndim), ic::options_of(dtype, device_type, device_index)))
}

IC_API TensorHandle ic_tensor_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype,
                                      int32_t device_type, int32_t device_index)
{
    IC_RETURN_TENSOR(at::randint(low, high, at::IntArrayRef(shape, ndim), ic::options_of(dtype, device_type, device_index)))
}

IC_API TensorHandle ic_tensor_randperm(int64_t n, int32_t device_type, int32_t device_index)
{
    IC_RETURN_TENSOR(at::randperm(n, ic::options_of(static_cast<int32_t>(at::kLong), device_type, device_index)))
}

// Copies the tensor's elements, in row-major order, into caller memory of exactly numel * element_size bytes.
IC_API int32_t ic_tensor_copy_to(TensorHandle t, void* destination, int64_t nbytes)
{
    IC_TRY
    auto cpu = t->detach().to(at::kCPU).contiguous();
    TORCH_CHECK(static_cast<int64_t>(cpu.nbytes()) == nbytes, "destination holds ", nbytes, " bytes but the tensor of shape ",
                cpu.sizes(), " and dtype ", cpu.scalar_type(), " needs ", cpu.nbytes());
    std::memcpy(destination, cpu.data_ptr(), cpu.nbytes());
    return 0;
    IC_CATCH(-1)
}

// Writes into an existing tensor from caller memory, keeping its storage (used to fill pooled or parameter tensors).
IC_API int32_t ic_tensor_copy_from(TensorHandle t, const void* source, int64_t nbytes)
{
    IC_TRY
    TORCH_CHECK(static_cast<int64_t>(t->nbytes()) == nbytes, "source holds ", nbytes, " bytes but the tensor of shape ",
                t->sizes(), " needs ", t->nbytes());
    at::NoGradGuard no_grad;
    if (t->device().is_cpu() && t->is_contiguous()) {
        std::memcpy(t->data_ptr(), source, nbytes);
    } else {
        auto cpu = at::from_blob(const_cast<void*>(source), t->sizes(), at::TensorOptions().dtype(t->scalar_type()));
        t->copy_(cpu);
    }
    return 0;
    IC_CATCH(-1)
}

IC_API void* ic_tensor_data_ptr(TensorHandle t)
{
    IC_TRY
    TORCH_CHECK(t->device().is_cpu(), "data_ptr needs a CPU tensor, this one is on ", t->device());
    TORCH_CHECK(t->is_contiguous(), "data_ptr needs a contiguous tensor");
    return t->data_ptr();
    IC_CATCH(nullptr)
}

IC_API int32_t ic_tensor_ndim(TensorHandle t) { return static_cast<int32_t>(t->dim()); }
IC_API int64_t ic_tensor_numel(TensorHandle t) { return t->numel(); }
IC_API int32_t ic_tensor_dtype(TensorHandle t) { return static_cast<int32_t>(t->scalar_type()); }
IC_API int64_t ic_tensor_element_size(TensorHandle t) { return static_cast<int64_t>(t->element_size()); }
IC_API int32_t ic_tensor_is_contiguous(TensorHandle t) { return t->is_contiguous() ? 1 : 0; }
IC_API int32_t ic_tensor_is_mkldnn(TensorHandle t) { return t->is_mkldnn() ? 1 : 0; }
IC_API TensorHandle ic_tensor_to_mkldnn(TensorHandle t) { IC_RETURN_TENSOR(t->to_mkldnn()) }
IC_API TensorHandle ic_tensor_to_dense(TensorHandle t) { IC_RETURN_TENSOR(t->to_dense()) }
IC_API int32_t ic_tensor_device_type(TensorHandle t) { return static_cast<int32_t>(t->device().type()); }
IC_API int32_t ic_tensor_device_index(TensorHandle t) { return t->device().index(); }

IC_API void ic_tensor_shape(TensorHandle t, int64_t* sizes)
{
    auto s = t->sizes();
    for (size_t i = 0; i < s.size(); ++i) sizes[i] = s[i];
}

IC_API int32_t ic_tensor_item_double(TensorHandle t, double* value)
{
    IC_TRY *value = t->item<double>(); return 0; IC_CATCH(-1)
}

IC_API int32_t ic_tensor_item_int64(TensorHandle t, int64_t* value)
{
    IC_TRY *value = t->item<int64_t>(); return 0; IC_CATCH(-1)
}

IC_API char* ic_tensor_to_string(TensorHandle t)
{
    IC_TRY
    std::ostringstream text;
    text << *t;
    return ::strdup(text.str().c_str());
    IC_CATCH(nullptr)
}

IC_API TensorHandle ic_tensor_to(TensorHandle t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t copy)
{
    IC_RETURN_TENSOR(t->to(ic::device_of(device_type, device_index), static_cast<at::ScalarType>(dtype), false, copy != 0))
}

IC_API TensorHandle ic_tensor_clone(TensorHandle t) { IC_RETURN_TENSOR(t->clone()) }
IC_API TensorHandle ic_tensor_detach(TensorHandle t) { IC_RETURN_TENSOR(t->detach()) }
IC_API TensorHandle ic_tensor_alias(TensorHandle t) { IC_RETURN_TENSOR(at::Tensor(*t)) }

// In-place writes run without recording autograd history: they initialise or update leaves.
IC_API int32_t ic_tensor_copy_(TensorHandle dst, TensorHandle src) { IC_RETURN_OK(at::NoGradGuard g; dst->copy_(*src)) }
IC_API int32_t ic_tensor_fill_(TensorHandle t, double value) { IC_RETURN_OK(at::NoGradGuard g; t->fill_(value)) }
IC_API int32_t ic_tensor_zero_(TensorHandle t) { IC_RETURN_OK(at::NoGradGuard g; t->zero_()) }
IC_API int32_t ic_tensor_uniform_(TensorHandle t, double from, double to) { IC_RETURN_OK(at::NoGradGuard g; t->uniform_(from, to)) }
IC_API int32_t ic_tensor_normal_(TensorHandle t, double mean, double std) { IC_RETURN_OK(at::NoGradGuard g; t->normal_(mean, std)) }

IC_API int32_t ic_tensor_requires_grad(TensorHandle t) { return t->requires_grad() ? 1 : 0; }
IC_API int32_t ic_tensor_set_requires_grad(TensorHandle t, int32_t value) { IC_RETURN_OK(t->set_requires_grad(value != 0)) }

// Writes the gradient handle, or nullptr when the tensor has none yet.
IC_API int32_t ic_tensor_grad(TensorHandle t, TensorHandle* grad)
{
    IC_TRY
    const auto& g = t->grad();
    *grad = g.defined() ? ic::wrap(g) : nullptr;
    return 0;
    IC_CATCH(-1)
}

IC_API int32_t ic_tensor_set_grad(TensorHandle t, TensorHandle grad)
{
    IC_RETURN_OK(t->mutable_grad() = grad == nullptr ? at::Tensor() : *grad)
}

IC_API int32_t ic_tensor_backward(TensorHandle t, TensorHandle gradient, int32_t retain_graph)
{
    IC_RETURN_OK(t->backward(gradient == nullptr ? at::Tensor() : *gradient, retain_graph != 0))
}

// set_to_none mirrors torch.optim.Optimizer.zero_grad(set_to_none=...).
IC_API int32_t ic_tensor_zero_grad(TensorHandle t, int32_t set_to_none)
{
    IC_TRY
    auto& g = t->mutable_grad();
    if (g.defined()) {
        if (set_to_none) {
            g.reset();
        } else {
            g = g.detach();
            g.zero_();
        }
    }
    return 0;
    IC_CATCH(-1)
}
