using ImageCaptioning.Torch.Modules;

namespace ImageCaptioning.Torch;

public static partial class torch
{
    // Factories named as in TorchSharp, so code reads like PyTorch: torch.nn.Linear(256, 8000).
    public static partial class nn
    {
        /// <summary>A fully connected layer.</summary>
        public static Linear Linear(long in_features, long out_features, bool hasBias = true, Device? device = null) =>
            new(in_features, out_features, hasBias, device);

        /// <summary>An embedding table.</summary>
        public static Embedding Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, Device? device = null) =>
            new(num_embeddings, embedding_dim, padding_idx, device);

        /// <summary>An LSTM.</summary>
        public static LSTM LSTM(long input_size, long hidden_size, long num_layers = 1, bool bias = true, bool batch_first = false,
            double dropout = 0, Device? device = null) =>
            new(input_size, hidden_size, num_layers, bias, batch_first, dropout, device);

        /// <summary>A dropout layer.</summary>
        public static Dropout Dropout(double p = 0.5) => new(p);

        /// <summary>A ReLU layer.</summary>
        public static ReLU ReLU(bool inplace = false) => new(inplace);

        /// <summary>A pass-through layer.</summary>
        public static Identity Identity() => new();

        /// <summary>A flattening layer.</summary>
        public static Flatten Flatten(long start_dim = 1, long end_dim = -1) => new(start_dim, end_dim);

        /// <summary>A 2-d convolution.</summary>
        public static Conv2d Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0,
            long dilation = 1, long groups = 1, bool bias = true, Device? device = null) =>
            new(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, device);

        /// <summary>2-d max pooling.</summary>
        public static MaxPool2d MaxPool2d(long kernel_size, long? stride = null, long padding = 0, long dilation = 1, bool ceil_mode = false) =>
            new(kernel_size, stride, padding, dilation, ceil_mode);

        /// <summary>Adaptive 2-d average pooling.</summary>
        public static AdaptiveAvgPool2d AdaptiveAvgPool2d(long height, long width) => new(height, width);

        /// <summary>2-d batch normalisation.</summary>
        public static BatchNorm2d BatchNorm2d(long num_features, double eps = 1e-5, double momentum = 0.1, Device? device = null) =>
            new(num_features, eps, momentum, device);

        /// <summary>A chain of layers.</summary>
        public static Sequential Sequential(params Module<Tensor, Tensor>[] modules) => new(modules);

        /// <summary>Gradient utilities.</summary>
        public static class utils
        {
            /// <summary>
            /// Scales gradients so their global norm is at most <paramref name="max_norm"/>; returns the norm before
            /// clipping (torch.nn.utils.clip_grad_norm_).
            /// </summary>
            public static unsafe double clip_grad_norm_(IEnumerable<Tensor> parameters, double max_norm, double norm_type = 2)
            {
                var list = parameters.ToList();
                var handles = Tensor.Handles(list);
                fixed (IntPtr* p = handles)
                {
                    Native.ThrowHelper.CheckStatus(Native.NativeMethods.ic_clip_grad_norm(p, handles.Length, max_norm, norm_type, out var norm));
                    GC.KeepAlive(list);
                    return norm;
                }
            }
        }
    }
}
