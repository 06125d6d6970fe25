// Entry points for reading serialized tensors (PyTorch .pth checkpoints): a storage is loaded once as a flat
// tensor, and every tensor saved from it becomes a strided view of it, exactly as torch.load rebuilds them.
#include "shim.h"

// A view of `storage` with the given sizes, strides and element offset. The managed side has already checked the
// geometry against the storage length; ATen checks it again and reports a violation as an error, never a crash.
IC_API TensorHandle ic_as_strided(TensorHandle storage, const int64_t* sizes, const int64_t* strides, int32_t ndim,
                                  int64_t storage_offset)
{
    IC_TRY
    TORCH_CHECK(ndim >= 0, "as_strided: negative number of dimensions ", ndim);
    at::NoGradGuard no_grad;
    return ic::wrap(storage->as_strided(at::IntArrayRef(sizes, ndim), at::IntArrayRef(strides, ndim), storage_offset));
    IC_CATCH(nullptr)
}
