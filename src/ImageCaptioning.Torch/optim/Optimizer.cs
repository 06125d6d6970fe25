using ImageCaptioning.Torch.Modules;

namespace ImageCaptioning.Torch;

public static partial class torch
{
    /// <summary>Optimisers (torch.optim).</summary>
    public static partial class optim
    {
        /// <summary>Creates Adam over <paramref name="parameters"/>.</summary>
        public static Adam Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
            double eps = 1e-8, double weight_decay = 0) => new(parameters, lr, beta1, beta2, eps, weight_decay);

        /// <summary>Creates SGD (with optional momentum) over <paramref name="parameters"/>.</summary>
        public static SGD SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0,
            double weight_decay = 0, bool nesterov = false) => new(parameters, lr, momentum, dampening, weight_decay, nesterov);

        /// <summary>Base of the optimisers: a fixed parameter list, a learning rate, and state saved as named tensors.</summary>
        public abstract class Optimizer : IDisposable
        {
            private protected Optimizer(IEnumerable<Parameter> parameters, double lr)
            {
                Parameters = parameters.ToArray();
                if (Parameters.Count == 0) throw new ArgumentException("the optimiser was given no parameters", nameof(parameters));
                this.lr = lr;
            }

            /// <summary>The optimised parameters, in order.</summary>
            public IReadOnlyList<Parameter> Parameters { get; }

            /// <summary>The learning rate (a scheduler may change it between steps).</summary>
            public double lr
            {
                get;
                set => field = value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(lr), value, "must be positive");
            }

            /// <summary>Clears the gradients (to none by default).</summary>
            public void zero_grad(bool set_to_none = true)
            {
                foreach (var p in Parameters) p.zero_grad(set_to_none);
            }

            /// <summary>Updates the parameters from their gradients.</summary>
            public abstract void step();

            /// <summary>
            /// The optimiser's state as named tensors ("{index}.{name}"), for checkpoints; the tensors are copies the
            /// caller owns.
            /// </summary>
            public abstract Dictionary<string, Tensor> state_dict();

            /// <summary>Restores state saved by <see cref="state_dict"/> for the same parameter list.</summary>
            public abstract void load_state_dict(IReadOnlyDictionary<string, Tensor> state);

            /// <summary>Frees the state tensors.</summary>
            public abstract void Dispose();

            private protected static Tensor Required(IReadOnlyDictionary<string, Tensor> state, string key) =>
                state.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"optimiser state has no entry '{key}'");
        }
    }
}
