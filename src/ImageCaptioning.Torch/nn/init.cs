namespace ImageCaptioning.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// Initialisers with PyTorch's arithmetic (torch.nn.init), drawing from libtorch's generator in the same
        /// order, so a seeded module starts from the same weights as its PyTorch twin.
        /// </summary>
        public static class init
        {
            /// <summary>Fills from U(-bound, bound), bound = gain·sqrt(3 / fan_in), gain for leaky_relu(a).</summary>
            public static Tensor kaiming_uniform_(Tensor tensor, double a = 0)
            {
                var fanIn = CalculateFanIn(tensor);
                var gain = Math.Sqrt(2.0 / (1 + Math.Pow(a, 2)));
                var std = gain / Math.Sqrt(fanIn);
                var bound = Math.Sqrt(3.0) * std;
                return tensor.uniform_(-bound, bound);
            }

            /// <summary>Fills from U(low, high).</summary>
            public static Tensor uniform_(Tensor tensor, double low = 0, double high = 1) => tensor.uniform_(low, high);

            /// <summary>Fills from N(mean, std²).</summary>
            public static Tensor normal_(Tensor tensor, double mean = 0, double std = 1) => tensor.normal_(mean, std);

            /// <summary>The bias initialisation of Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
            internal static void FanInUniform(Tensor bias, Tensor weight)
            {
                var fanIn = CalculateFanIn(weight);
                var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
                bias.uniform_(-bound, bound);
            }

            internal static long CalculateFanIn(Tensor tensor)
            {
                var shape = tensor.shape;
                if (shape.Length < 2)
                    throw new ArgumentException("fan in can not be computed for a tensor with fewer than 2 dimensions", nameof(tensor));
                long receptiveField = 1;
                for (var i = 2; i < shape.Length; i++) receptiveField *= shape[i];
                return shape[1] * receptiveField;
            }
        }
    }
}
