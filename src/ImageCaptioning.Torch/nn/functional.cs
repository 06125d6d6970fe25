using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>How a loss reduces over the batch.</summary>
        public enum Reduction
        {
            /// <summary>One loss per element.</summary>
            None = 0,
            /// <summary>The mean (over non-ignored targets for cross entropy).</summary>
            Mean = 1,
            /// <summary>The sum.</summary>
            Sum = 2,
        }

        /// <summary>Stateless neural-network functions (torch.nn.functional).</summary>
        public static class functional
        {
            /// <summary>x · Wᵀ + b.</summary>
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) =>
                new(NativeMethods.ic_linear(input.Handle, weight.Handle, bias?.Handle ?? TensorHandle.Null));

            /// <summary>Rows of <paramref name="weight"/> at <paramref name="indices"/>; the padding row gets no gradient.</summary>
            public static Tensor embedding(Tensor indices, Tensor weight, long? padding_idx = null) =>
                new(NativeMethods.ic_embedding(weight.Handle, indices.Handle, padding_idx ?? -1));

            /// <summary>Zeroes elements with probability <paramref name="p"/> and rescales, when training.</summary>
            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true) =>
                new(NativeMethods.ic_dropout(input.Handle, p, training ? 1 : 0));

            /// <summary>max(x, 0).</summary>
            public static Tensor relu(Tensor input) => input.relu();

            /// <summary>Softmax along <paramref name="dim"/>.</summary>
            public static Tensor softmax(Tensor input, long dim) => input.softmax(dim);

            /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
            public static Tensor log_softmax(Tensor input, long dim) => input.log_softmax(dim);

            /// <summary>2-d convolution over NCHW input.</summary>
            public static unsafe Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, (long, long)? stride = null,
                (long, long)? padding = null, (long, long)? dilation = null, long groups = 1)
            {
                var (s, p, d) = (stride ?? (1, 1), padding ?? (0, 0), dilation ?? (1, 1));
                long* sp = stackalloc long[] { s.Item1, s.Item2 };
                long* pp = stackalloc long[] { p.Item1, p.Item2 };
                long* dp = stackalloc long[] { d.Item1, d.Item2 };
                return new(NativeMethods.ic_conv2d(input.Handle, weight.Handle, bias?.Handle ?? TensorHandle.Null, sp, pp, dp, groups));
            }

            /// <summary>2-d max pooling; stride defaults to the kernel size.</summary>
            public static unsafe Tensor max_pool2d(Tensor input, (long, long) kernel_size, (long, long)? stride = null,
                (long, long)? padding = null, (long, long)? dilation = null, bool ceil_mode = false)
            {
                var (s, p, d) = (stride ?? kernel_size, padding ?? (0, 0), dilation ?? (1, 1));
                long* kp = stackalloc long[] { kernel_size.Item1, kernel_size.Item2 };
                long* sp = stackalloc long[] { s.Item1, s.Item2 };
                long* pp = stackalloc long[] { p.Item1, p.Item2 };
                long* dp = stackalloc long[] { d.Item1, d.Item2 };
                return new(NativeMethods.ic_max_pool2d(input.Handle, kp, sp, pp, dp, ceil_mode ? 1 : 0));
            }

            /// <summary>Average pooling to a fixed output size.</summary>
            public static unsafe Tensor adaptive_avg_pool2d(Tensor input, (long, long) output_size)
            {
                long* op = stackalloc long[] { output_size.Item1, output_size.Item2 };
                return new(NativeMethods.ic_adaptive_avg_pool2d(input.Handle, op));
            }

            /// <summary>Batch normalisation; in training it updates the running statistics in place.</summary>
            public static Tensor batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight = null,
                Tensor? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5) =>
                new(NativeMethods.ic_batch_norm(input.Handle, weight?.Handle ?? TensorHandle.Null, bias?.Handle ?? TensorHandle.Null,
                    running_mean?.Handle ?? TensorHandle.Null, running_var?.Handle ?? TensorHandle.Null, training ? 1 : 0, momentum, eps));

            /// <summary>Cross entropy of logits [N, C] (or [N, C, d...]) against class indices.</summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100,
                Reduction reduction = Reduction.Mean, double label_smoothing = 0) =>
                new(NativeMethods.ic_cross_entropy(input.Handle, target.Handle, weight?.Handle ?? TensorHandle.Null,
                    (long)reduction, ignore_index, label_smoothing));

            /// <summary>
            /// <c>cross_entropy(linear(input, weight, bias), target)</c> with mean reduction, computed without
            /// materialising the log-probabilities and their gradients separately: one [N, C] buffer holds the
            /// softmax and then, in place, the logits' gradient. Same values as the composition; for large C it
            /// saves several [N, C] memory passes per step. Backward may run once per forward (no retain_graph).
            /// <paramref name="input"/> is [N, in], <paramref name="weight"/> [C, in], <paramref name="target"/>
            /// [N] int64 class indices in [0, C); there is no ignore_index, so select the rows that count first.
            /// </summary>
            public static Tensor linear_cross_entropy(Tensor input, Tensor weight, Tensor? bias, Tensor target) =>
                new(NativeMethods.ic_linear_cross_entropy(input.Handle, weight.Handle, bias?.Handle ?? TensorHandle.Null, target.Handle));

            /// <summary>
            /// Bilinear resize of NCHW float input to (<paramref name="height"/>, <paramref name="width"/>). With
            /// antialias, downscaling widens the filter as torchvision (and PIL) do.
            /// </summary>
            public static Tensor interpolate_bilinear(Tensor input, long height, long width, bool align_corners = false, bool antialias = true) =>
                new(NativeMethods.ic_upsample_bilinear2d(input.Handle, height, width, align_corners ? 1 : 0, antialias ? 1 : 0));

            /// <summary>
            /// A (multi-layer) LSTM over a whole sequence. <paramref name="parameters"/> holds per layer
            /// w_ih, w_hh and, with biases, b_ih, b_hh. Returns the output and the final (h, c).
            /// </summary>
            public static unsafe (Tensor output, Tensor h_n, Tensor c_n) lstm(Tensor input, Tensor h0, Tensor c0,
                IReadOnlyList<Tensor> parameters, bool has_biases, long num_layers, double dropout, bool training, bool batch_first)
            {
                var handles = Tensor.Handles(parameters);
                fixed (IntPtr* p = handles)
                {
                    ThrowHelper.CheckStatus(NativeMethods.ic_lstm(input.Handle, h0.Handle, c0.Handle, p, handles.Length,
                        has_biases ? 1 : 0, num_layers, dropout, training ? 1 : 0, batch_first ? 1 : 0,
                        out var output, out var hN, out var cN));
                    GC.KeepAlive(parameters);
                    return (new Tensor(output), new Tensor(hN), new Tensor(cN));
                }
            }

            /// <summary>One LSTM cell step: (h, c) for the next position from input [B, in] and state [B, H].</summary>
            public static (Tensor h, Tensor c) lstm_cell(Tensor input, Tensor h, Tensor c, Tensor w_ih, Tensor w_hh,
                Tensor? b_ih = null, Tensor? b_hh = null)
            {
                ThrowHelper.CheckStatus(NativeMethods.ic_lstm_cell(input.Handle, h.Handle, c.Handle, w_ih.Handle, w_hh.Handle,
                    b_ih?.Handle ?? TensorHandle.Null, b_hh?.Handle ?? TensorHandle.Null, out var hNext, out var cNext));
                return (new Tensor(hNext), new Tensor(cNext));
            }
        }
    }
}
