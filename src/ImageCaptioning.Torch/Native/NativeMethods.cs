using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Native;

/// <summary>
/// P/Invoke declarations of the C ABI shim (src/ImageCaptioning.Native). Handles are raw pointers here; the
/// managed layer owns them through <see cref="TensorHandle"/>. Every function reports failure in-band (null or -1)
/// and leaves the message for <see cref="ic_take_error"/>.
/// </summary>
internal static partial class NativeMethods
{
    internal const string Library = "ImageCaptioningNative";

    static NativeMethods()
    {
        ThreadPolicy.BeforeLoad();
        ThrowHelper.CheckStatus(ic_set_num_threads(ThreadPolicy.DefaultThreads()));
    }

    // Runtime
    [LibraryImport(Library)] internal static partial IntPtr ic_take_error();
    [LibraryImport(Library)] internal static partial void ic_free_string(IntPtr s);
    [LibraryImport(Library)] internal static partial IntPtr ic_build_config();
    [LibraryImport(Library)] internal static partial int ic_set_num_threads(int n);
    [LibraryImport(Library)] internal static partial int ic_get_num_threads();
    [LibraryImport(Library)] internal static partial int ic_set_num_interop_threads(int n);
    [LibraryImport(Library)] internal static partial int ic_manual_seed(ulong seed);
    [LibraryImport(Library)] internal static partial int ic_set_grad_enabled(int enabled);
    [LibraryImport(Library)] internal static partial int ic_is_grad_enabled();
    [LibraryImport(Library)] internal static partial int ic_cuda_is_available();
    [LibraryImport(Library)] internal static partial int ic_mkldnn_is_available();
    [LibraryImport(Library)] internal static partial int ic_mkldnn_is_enabled();
    [LibraryImport(Library)] internal static partial void ic_mkldnn_set_enabled(int enabled);
    [LibraryImport(Library)] internal static partial int ic_cuda_device_count();
    [LibraryImport(Library)] internal static partial int ic_cuda_synchronize(int deviceIndex);
    [LibraryImport(Library)] internal static partial int ic_debug_throw(int kind);

    // Tensor lifetime, creation, data and properties
    [LibraryImport(Library)] internal static partial void ic_tensor_free(IntPtr t);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_tensor_from_data(void* data, int dtype, long* shape, int ndim, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_tensor_empty(long* shape, int ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_tensor_full(long* shape, int ndim, double value, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_arange(double start, double end, double step, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_tensor_rand(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_tensor_randn(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_tensor_randint(long low, long high, long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_randperm(long n, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial int ic_tensor_copy_to(TensorHandle t, void* destination, long nbytes);
    [LibraryImport(Library)] internal static unsafe partial int ic_tensor_copy_from(TensorHandle t, void* source, long nbytes);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_data_ptr(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_ndim(TensorHandle t);
    [LibraryImport(Library)] internal static partial long ic_tensor_numel(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_dtype(TensorHandle t);
    [LibraryImport(Library)] internal static partial long ic_tensor_element_size(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_is_contiguous(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_is_mkldnn(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_to_mkldnn(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_to_dense(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_device_type(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_device_index(TensorHandle t);
    [LibraryImport(Library)] internal static unsafe partial void ic_tensor_shape(TensorHandle t, long* sizes);
    [LibraryImport(Library)] internal static partial int ic_tensor_item_double(TensorHandle t, out double value);
    [LibraryImport(Library)] internal static partial int ic_tensor_item_int64(TensorHandle t, out long value);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_to_string(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_to(TensorHandle t, int dtype, int deviceType, int deviceIndex, int copy);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_clone(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_detach(TensorHandle t);
    [LibraryImport(Library)] internal static partial IntPtr ic_tensor_alias(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_copy_(TensorHandle dst, TensorHandle src);
    [LibraryImport(Library)] internal static partial int ic_tensor_fill_(TensorHandle t, double value);
    [LibraryImport(Library)] internal static partial int ic_tensor_zero_(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_uniform_(TensorHandle t, double from, double to);
    [LibraryImport(Library)] internal static partial int ic_tensor_normal_(TensorHandle t, double mean, double std);
    [LibraryImport(Library)] internal static partial int ic_tensor_requires_grad(TensorHandle t);
    [LibraryImport(Library)] internal static partial int ic_tensor_set_requires_grad(TensorHandle t, int value);
    [LibraryImport(Library)] internal static partial int ic_tensor_grad(TensorHandle t, out IntPtr grad);
    [LibraryImport(Library)] internal static partial int ic_tensor_set_grad(TensorHandle t, TensorHandle grad);
    [LibraryImport(Library)] internal static partial int ic_tensor_backward(TensorHandle t, TensorHandle gradient, int retainGraph);
    [LibraryImport(Library)] internal static partial int ic_tensor_zero_grad(TensorHandle t, int setToNone);

    // Element-wise, reductions, indexing and shapes
    [LibraryImport(Library)] internal static partial IntPtr ic_neg(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_abs(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_exp(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_log(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_sqrt(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_tanh(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_sigmoid(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_relu(TensorHandle a);
    [LibraryImport(Library)] internal static partial int ic_relu_(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_contiguous(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_sum_all(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_mean_all(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_max_all(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_min_all(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_squeeze_all(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_logical_not(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_add(TensorHandle a, TensorHandle b, double alpha);
    [LibraryImport(Library)] internal static partial IntPtr ic_sub(TensorHandle a, TensorHandle b, double alpha);
    [LibraryImport(Library)] internal static partial IntPtr ic_mul(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_div(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_matmul(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_maximum(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_minimum(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_eq(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_ne(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_lt(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_le(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_gt(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_ge(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_logical_and(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_logical_or(TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static partial IntPtr ic_add_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_mul_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_div_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_rsub_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_pow_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_eq_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_ne_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_lt_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_le_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_gt_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_ge_scalar(TensorHandle a, double s);
    [LibraryImport(Library)] internal static partial IntPtr ic_clamp(TensorHandle a, int hasMin, double min, int hasMax, double max);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_sum_dims(TensorHandle a, long* dims, int ndims, int keepdim);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_mean_dims(TensorHandle a, long* dims, int ndims, int keepdim);
    [LibraryImport(Library)] internal static partial int ic_max_dim(TensorHandle a, long dim, int keepdim, out IntPtr values, out IntPtr indices);
    [LibraryImport(Library)] internal static partial IntPtr ic_argmax(TensorHandle a, int hasDim, long dim, int keepdim);
    [LibraryImport(Library)] internal static partial int ic_topk(TensorHandle a, long k, long dim, int largest, int sorted, out IntPtr values, out IntPtr indices);
    [LibraryImport(Library)] internal static partial int ic_sort(TensorHandle a, long dim, int descending, int stable, out IntPtr values, out IntPtr indices);
    [LibraryImport(Library)] internal static partial IntPtr ic_softmax(TensorHandle a, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ic_log_softmax(TensorHandle a, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ic_cumsum(TensorHandle a, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ic_logsumexp(TensorHandle a, long dim, int keepdim);
    [LibraryImport(Library)] internal static partial IntPtr ic_multinomial(TensorHandle probabilities, long samples, int replacement);
    [LibraryImport(Library)] internal static partial IntPtr ic_masked_fill(TensorHandle a, TensorHandle mask, double value);
    [LibraryImport(Library)] internal static partial IntPtr ic_where(TensorHandle condition, TensorHandle a, TensorHandle b);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_reshape(TensorHandle a, long* shape, int ndim);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_view(TensorHandle a, long* shape, int ndim);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_permute(TensorHandle a, long* dims, int ndim);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_expand(TensorHandle a, long* shape, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ic_transpose(TensorHandle a, long dim0, long dim1);
    [LibraryImport(Library)] internal static partial IntPtr ic_narrow(TensorHandle a, long dim, long start, long length);
    [LibraryImport(Library)] internal static partial IntPtr ic_select(TensorHandle a, long dim, long index);
    [LibraryImport(Library)] internal static partial IntPtr ic_squeeze_dim(TensorHandle a, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ic_unsqueeze(TensorHandle a, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ic_flatten(TensorHandle a, long start, long end);
    [LibraryImport(Library)] internal static partial IntPtr ic_index_select(TensorHandle a, long dim, TensorHandle index);
    [LibraryImport(Library)] internal static partial IntPtr ic_gather(TensorHandle a, long dim, TensorHandle index);
    [LibraryImport(Library)] internal static partial IntPtr ic_masked_select(TensorHandle a, TensorHandle mask);
    [LibraryImport(Library)] internal static partial IntPtr ic_nonzero(TensorHandle a);
    [LibraryImport(Library)] internal static partial IntPtr ic_repeat_interleave(TensorHandle a, long repeats, long dim);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_cat(IntPtr* tensors, int count, long dim);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_stack(IntPtr* tensors, int count, long dim);

    // Neural-network functions
    [LibraryImport(Library)] internal static partial IntPtr ic_linear(TensorHandle input, TensorHandle weight, TensorHandle bias);
    [LibraryImport(Library)] internal static partial IntPtr ic_embedding(TensorHandle weight, TensorHandle indices, long paddingIdx);
    [LibraryImport(Library)] internal static unsafe partial int ic_lstm(TensorHandle input, TensorHandle h0, TensorHandle c0, IntPtr* parameters, int parameterCount, int hasBiases, long numLayers, double dropout, int train, int batchFirst, out IntPtr output, out IntPtr hN, out IntPtr cN);
    [LibraryImport(Library)] internal static partial int ic_lstm_cell(TensorHandle input, TensorHandle h, TensorHandle c, TensorHandle wIh, TensorHandle wHh, TensorHandle bIh, TensorHandle bHh, out IntPtr hNext, out IntPtr cNext);
    [LibraryImport(Library)] internal static partial IntPtr ic_dropout(TensorHandle input, double p, int train);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_conv2d(TensorHandle input, TensorHandle weight, TensorHandle bias, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_max_pool2d(TensorHandle input, long* kernel, long* stride, long* padding, long* dilation, int ceilMode);
    [LibraryImport(Library)] internal static unsafe partial IntPtr ic_adaptive_avg_pool2d(TensorHandle input, long* outputSize);
    [LibraryImport(Library)] internal static partial IntPtr ic_batch_norm(TensorHandle input, TensorHandle weight, TensorHandle bias, TensorHandle runningMean, TensorHandle runningVar, int training, double momentum, double eps);
    [LibraryImport(Library)] internal static partial IntPtr ic_cross_entropy(TensorHandle input, TensorHandle target, TensorHandle weight, long reduction, long ignoreIndex, double labelSmoothing);
    [LibraryImport(Library)] internal static partial IntPtr ic_linear_cross_entropy(TensorHandle input, TensorHandle weight, TensorHandle bias, TensorHandle target);
    [LibraryImport(Library)] internal static partial IntPtr ic_upsample_bilinear2d(TensorHandle input, long height, long width, int alignCorners, int antialias);

    // Optimisers
    [LibraryImport(Library)] internal static unsafe partial int ic_adam_step(IntPtr* parameters, IntPtr* expAvgs, IntPtr* expAvgSqs, long* steps, int count, double lr, double beta1, double beta2, double eps, double weightDecay);
    [LibraryImport(Library)] internal static unsafe partial int ic_sgd_step(IntPtr* parameters, IntPtr* momentumBuffers, int count, double lr, double momentum, double dampening, double weightDecay, int nesterov);
    [LibraryImport(Library)] internal static unsafe partial int ic_clip_grad_norm(IntPtr* parameters, int count, double maxNorm, double normType, out double totalNorm);
}
