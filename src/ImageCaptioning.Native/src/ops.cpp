// Element-wise, reduction, indexing and shape operations.
#include "shim.h"

#define IC_UNARY(name, expr) \
    IC_API TensorHandle ic_##name(TensorHandle a) { IC_RETURN_TENSOR(expr) }
#define IC_BINARY(name, expr) \
    IC_API TensorHandle ic_##name(TensorHandle a, TensorHandle b) { IC_RETURN_TENSOR(expr) }
#define IC_SCALAR(name, expr) \
    IC_API TensorHandle ic_##name(TensorHandle a, double s) { IC_RETURN_TENSOR(expr) }

IC_UNARY(neg, a->neg())
IC_UNARY(abs, a->abs())
IC_UNARY(exp, a->exp())
IC_UNARY(log, a->log())
IC_UNARY(sqrt, a->sqrt())
IC_UNARY(tanh, a->tanh())
IC_UNARY(sigmoid, a->sigmoid())
IC_UNARY(relu, a->relu())
IC_UNARY(contiguous, a->contiguous())
IC_UNARY(sum_all, a->sum())
IC_UNARY(mean_all, a->mean())
IC_UNARY(max_all, a->max())
IC_UNARY(min_all, a->min())
IC_UNARY(squeeze_all, a->squeeze())
IC_UNARY(logical_not, a->logical_not())

IC_API TensorHandle ic_add(TensorHandle a, TensorHandle b, double alpha) { IC_RETURN_TENSOR(at::add(*a, *b, alpha)) }
IC_API TensorHandle ic_sub(TensorHandle a, TensorHandle b, double alpha) { IC_RETURN_TENSOR(at::sub(*a, *b, alpha)) }
IC_BINARY(mul, at::mul(*a, *b))
IC_BINARY(div, at::div(*a, *b))
IC_BINARY(matmul, at::matmul(*a, *b))
IC_BINARY(maximum, at::maximum(*a, *b))
IC_BINARY(minimum, at::minimum(*a, *b))
IC_BINARY(eq, at::eq(*a, *b))
IC_BINARY(ne, at::ne(*a, *b))
IC_BINARY(lt, at::lt(*a, *b))
IC_BINARY(le, at::le(*a, *b))
IC_BINARY(gt, at::gt(*a, *b))
IC_BINARY(ge, at::ge(*a, *b))
IC_BINARY(logical_and, at::logical_and(*a, *b))
IC_BINARY(logical_or, at::logical_or(*a, *b))

IC_SCALAR(add_scalar, at::add(*a, s))
IC_SCALAR(mul_scalar, at::mul(*a, s))
IC_SCALAR(div_scalar, at::div(*a, s))
IC_SCALAR(rsub_scalar, at::rsub(*a, s))
IC_SCALAR(pow_scalar, at::pow(*a, s))
IC_SCALAR(eq_scalar, at::eq(*a, s))
IC_SCALAR(ne_scalar, at::ne(*a, s))
IC_SCALAR(lt_scalar, at::lt(*a, s))
IC_SCALAR(le_scalar, at::le(*a, s))
IC_SCALAR(gt_scalar, at::gt(*a, s))
IC_SCALAR(ge_scalar, at::ge(*a, s))

IC_API TensorHandle ic_clamp(TensorHandle a, int32_t has_min, double min, int32_t has_max, double max)
{
    IC_RETURN_TENSOR(at::clamp(*a, has_min ? c10::optional<at::Scalar>(min) : c10::nullopt,
                               has_max ? c10::optional<at::Scalar>(max) : c10::nullopt))
}

IC_API TensorHandle ic_sum_dims(TensorHandle a, const int64_t* dims, int32_t ndims, int32_t keepdim)
{
    IC_RETURN_TENSOR(a->sum(at::IntArrayRef(dims, ndims), keepdim != 0))
}

IC_API TensorHandle ic_mean_dims(TensorHandle a, const int64_t* dims, int32_t ndims, int32_t keepdim)
{
    IC_RETURN_TENSOR(a->mean(at::IntArrayRef(dims, ndims), keepdim != 0))
}

IC_API int32_t ic_max_dim(TensorHandle a, int64_t dim, int32_t keepdim, TensorHandle* values, TensorHandle* indices)
{
    IC_TRY
    auto result = a->max(dim, keepdim != 0);
    *values = ic::wrap(std::get<0>(result));
    *indices = ic::wrap(std::get<1>(result));
    return 0;
    IC_CATCH(-1)
}

IC_API TensorHandle ic_argmax(TensorHandle a, int32_t has_dim, int64_t dim, int32_t keepdim)
{
    IC_RETURN_TENSOR(a->argmax(has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0))
}

IC_API int32_t ic_topk(TensorHandle a, int64_t k, int64_t dim, int32_t largest, int32_t sorted, TensorHandle* values,
                       TensorHandle* indices)
{
    IC_TRY
    auto result = a->topk(k, dim, largest != 0, sorted != 0);
    *values = ic::wrap(std::get<0>(result));
    *indices = ic::wrap(std::get<1>(result));
    return 0;
    IC_CATCH(-1)
}

IC_API int32_t ic_sort(TensorHandle a, int64_t dim, int32_t descending, int32_t stable, TensorHandle* values,
                       TensorHandle* indices)
{
    IC_TRY
    auto result = a->sort(stable != 0, dim, descending != 0);
    *values = ic::wrap(std::get<0>(result));
    *indices = ic::wrap(std::get<1>(result));
    return 0;
    IC_CATCH(-1)
}

IC_API TensorHandle ic_softmax(TensorHandle a, int64_t dim) { IC_RETURN_TENSOR(at::softmax(*a, dim)) }
IC_API TensorHandle ic_log_softmax(TensorHandle a, int64_t dim) { IC_RETURN_TENSOR(at::log_softmax(*a, dim)) }
IC_API TensorHandle ic_cumsum(TensorHandle a, int64_t dim) { IC_RETURN_TENSOR(at::cumsum(*a, dim)) }

IC_API TensorHandle ic_multinomial(TensorHandle probabilities, int64_t samples, int32_t replacement)
{
    IC_RETURN_TENSOR(at::multinomial(*probabilities, samples, replacement != 0))
}

IC_API TensorHandle ic_masked_fill(TensorHandle a, TensorHandle mask, double value)
{
    IC_RETURN_TENSOR(a->masked_fill(*mask, value))
}

IC_API TensorHandle ic_where(TensorHandle condition, TensorHandle a, TensorHandle b)
{
    IC_RETURN_TENSOR(at::where(*condition, *a, *b))
}

IC_API TensorHandle ic_reshape(TensorHandle a, const int64_t* shape, int32_t ndim)
{
    IC_RETURN_TENSOR(a->reshape(at::IntArrayRef(shape, ndim)))
}

IC_API TensorHandle ic_view(TensorHandle a, const int64_t* shape, int32_t ndim)
{
    IC_RETURN_TENSOR(a->view(at::IntArrayRef(shape, ndim)))
}

IC_API TensorHandle ic_permute(TensorHandle a, const int64_t* dims, int32_t ndim)
{
    IC_RETURN_TENSOR(a->permute(at::IntArrayRef(dims, ndim)))
}

IC_API TensorHandle ic_expand(TensorHandle a, const int64_t* shape, int32_t ndim)
{
    IC_RETURN_TENSOR(a->expand(at::IntArrayRef(shape, ndim)))
}

IC_API TensorHandle ic_transpose(TensorHandle a, int64_t dim0, int64_t dim1) { IC_RETURN_TENSOR(a->transpose(dim0, dim1)) }
IC_API TensorHandle ic_narrow(TensorHandle a, int64_t dim, int64_t start, int64_t length) { IC_RETURN_TENSOR(a->narrow(dim, start, length)) }
IC_API TensorHandle ic_select(TensorHandle a, int64_t dim, int64_t index) { IC_RETURN_TENSOR(a->select(dim, index)) }
IC_API TensorHandle ic_squeeze_dim(TensorHandle a, int64_t dim) { IC_RETURN_TENSOR(a->squeeze(dim)) }
IC_API TensorHandle ic_unsqueeze(TensorHandle a, int64_t dim) { IC_RETURN_TENSOR(a->unsqueeze(dim)) }
IC_API TensorHandle ic_flatten(TensorHandle a, int64_t start, int64_t end) { IC_RETURN_TENSOR(a->flatten(start, end)) }
IC_API TensorHandle ic_index_select(TensorHandle a, int64_t dim, TensorHandle index) { IC_RETURN_TENSOR(a->index_select(dim, *index)) }
IC_API TensorHandle ic_gather(TensorHandle a, int64_t dim, TensorHandle index) { IC_RETURN_TENSOR(a->gather(dim, *index)) }
IC_API TensorHandle ic_masked_select(TensorHandle a, TensorHandle mask) { IC_RETURN_TENSOR(a->masked_select(*mask)) }

IC_API TensorHandle ic_cat(const TensorHandle* tensors, int32_t count, int64_t dim)
{
    IC_RETURN_TENSOR(at::cat(ic::tensors_of(tensors, count), dim))
}

IC_API TensorHandle ic_stack(const TensorHandle* tensors, int32_t count, int64_t dim)
{
    IC_RETURN_TENSOR(at::stack(ic::tensors_of(tensors, count), dim))
}

IC_API TensorHandle ic_allclose_max_abs_diff(TensorHandle a, TensorHandle b)
{
    IC_RETURN_TENSOR((*a - *b).abs().max())
}

// Indices of non-zero elements as [count, ndim] int64.
IC_API TensorHandle ic_nonzero(TensorHandle a) { IC_RETURN_TENSOR(a->nonzero()) }
IC_API TensorHandle ic_repeat_interleave(TensorHandle a, int64_t repeats, int64_t dim) { IC_RETURN_TENSOR(a->repeat_interleave(repeats, dim)) }

// In-place ReLU: saves one activation-sized allocation per layer in CNN forward passes (torchvision's inplace=True).
IC_API int32_t ic_relu_(TensorHandle a) { IC_RETURN_OK(a->relu_()) }

IC_API TensorHandle ic_logsumexp(TensorHandle a, int64_t dim, int32_t keepdim) { IC_RETURN_TENSOR(at::logsumexp(*a, {dim}, keepdim != 0)) }
