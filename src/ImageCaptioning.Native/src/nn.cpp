// Neural-network functions: the building blocks of the managed torch.nn modules.
#include "shim.h"

IC_API TensorHandle ic_linear(TensorHandle input, TensorHandle weight, TensorHandle bias)
{
    IC_RETURN_TENSOR(at::linear(*input, *weight, ic::optional_of(bias)))
}

IC_API TensorHandle ic_embedding(TensorHandle weight, TensorHandle indices, int64_t padding_idx)
{
    IC_RETURN_TENSOR(at::embedding(*weight, *indices, padding_idx))
}

// Runs a (multi-layer, unidirectional) LSTM over a whole sequence. params holds, per layer,
// w_ih, w_hh[, b_ih, b_hh] in PyTorch's order. Writes output, h_n and c_n.
IC_API int32_t ic_lstm(TensorHandle input, TensorHandle h0, TensorHandle c0, const TensorHandle* params,
                       int32_t param_count, int32_t has_biases, int64_t num_layers, double dropout, int32_t train,
                       int32_t batch_first, TensorHandle* output, TensorHandle* h_n, TensorHandle* c_n)
{
    IC_TRY
    std::vector<at::Tensor> hx{*h0, *c0};
    auto result = at::lstm(*input, hx, ic::tensors_of(params, param_count), has_biases != 0, num_layers, dropout,
                           train != 0, false, batch_first != 0);
    *output = ic::wrap(std::get<0>(result));
    *h_n = ic::wrap(std::get<1>(result));
    *c_n = ic::wrap(std::get<2>(result));
    return 0;
    IC_CATCH(-1)
}

// One LSTM cell step for one layer; the decoder carries (h, c) between steps instead of re-running the prefix.
IC_API int32_t ic_lstm_cell(TensorHandle input, TensorHandle h, TensorHandle c, TensorHandle w_ih, TensorHandle w_hh,
                            TensorHandle b_ih, TensorHandle b_hh, TensorHandle* h_next, TensorHandle* c_next)
{
    IC_TRY
    std::vector<at::Tensor> hx{*h, *c};
    auto result = at::lstm_cell(*input, hx, *w_ih, *w_hh, ic::optional_of(b_ih), ic::optional_of(b_hh));
    *h_next = ic::wrap(std::get<0>(result));
    *c_next = ic::wrap(std::get<1>(result));
    return 0;
    IC_CATCH(-1)
}

IC_API TensorHandle ic_dropout(TensorHandle input, double p, int32_t train)
{
    IC_RETURN_TENSOR(at::dropout(*input, p, train != 0))
}

IC_API TensorHandle ic_conv2d(TensorHandle input, TensorHandle weight, TensorHandle bias, const int64_t* stride,
                              const int64_t* padding, const int64_t* dilation, int64_t groups)
{
    IC_RETURN_TENSOR(at::conv2d(*input, *weight, ic::optional_of(bias), at::IntArrayRef(stride, 2),
                                at::IntArrayRef(padding, 2), at::IntArrayRef(dilation, 2), groups))
}

IC_API TensorHandle ic_max_pool2d(TensorHandle input, const int64_t* kernel, const int64_t* stride,
                                  const int64_t* padding, const int64_t* dilation, int32_t ceil_mode)
{
    IC_RETURN_TENSOR(at::max_pool2d(*input, at::IntArrayRef(kernel, 2), at::IntArrayRef(stride, 2),
                                    at::IntArrayRef(padding, 2), at::IntArrayRef(dilation, 2), ceil_mode != 0))
}

IC_API TensorHandle ic_adaptive_avg_pool2d(TensorHandle input, const int64_t* output_size)
{
    IC_RETURN_TENSOR(at::adaptive_avg_pool2d(*input, at::IntArrayRef(output_size, 2)))
}

IC_API TensorHandle ic_batch_norm(TensorHandle input, TensorHandle weight, TensorHandle bias, TensorHandle running_mean,
                                  TensorHandle running_var, int32_t training, double momentum, double eps)
{
    IC_RETURN_TENSOR(at::batch_norm(*input, ic::optional_of(weight), ic::optional_of(bias), ic::optional_of(running_mean),
                                    ic::optional_of(running_var), training != 0, momentum, eps, false))
}

// reduction: 0 none, 1 mean, 2 sum (at::Reduction).
IC_API TensorHandle ic_cross_entropy(TensorHandle input, TensorHandle target, TensorHandle weight, int64_t reduction,
                                     int64_t ignore_index, double label_smoothing)
{
    IC_RETURN_TENSOR(at::cross_entropy_loss(*input, *target, ic::optional_of(weight), reduction, ignore_index, label_smoothing))
}

// Bilinear resize of an NCHW float tensor; antialias matches torchvision's (and PIL's) downscaling filter.
IC_API TensorHandle ic_upsample_bilinear2d(TensorHandle input, int64_t height, int64_t width, int32_t align_corners,
                                           int32_t antialias)
{
    IC_TRY
    std::vector<int64_t> size{height, width};
    if (antialias) return ic::wrap(at::_upsample_bilinear2d_aa(*input, size, align_corners != 0));
    return ic::wrap(at::upsample_bilinear2d(*input, size, align_corners != 0));
    IC_CATCH(nullptr)
}
