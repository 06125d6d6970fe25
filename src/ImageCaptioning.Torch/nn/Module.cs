using ImageCaptioning.Torch.Modules;
using ImageCaptioning.Torch.Serialization;

namespace ImageCaptioning.Torch;

public static partial class torch
{
    /// <summary>Neural-network modules, their functional forms, initialisers and losses (torch.nn).</summary>
    public static partial class nn
    {
        /// <summary>
        /// Base of all modules: named parameters, buffers and sub-modules with PyTorch's state_dict key names
        /// ("lstm.weight_ih_l0", "features.0.bias", ...), train/eval mode and device moves.
        /// </summary>
        public abstract class Module : IDisposable
        {
            private readonly List<(string Name, Parameter? Value)> ownParameters = [];
            private readonly List<(string Name, Tensor? Value)> ownBuffers = [];
            private readonly List<(string Name, Module Value)> ownChildren = [];
            private bool disposed;

            /// <summary>Whether the module is in training mode (dropout active, batch norm updating statistics).</summary>
            public bool training { get; private set; } = true;

            /// <summary>Registers a parameter under <paramref name="name"/>; null records an absent optional one (a disabled bias).</summary>
            protected Parameter? register_parameter(string name, Parameter? parameter)
            {
                CheckNewName(name);
                ownParameters.Add((name, parameter));
                return parameter;
            }

            /// <summary>Registers a non-trainable tensor saved in the state_dict (running statistics).</summary>
            protected Tensor register_buffer(string name, Tensor buffer)
            {
                CheckNewName(name);
                ownBuffers.Add((name, buffer.DetachFromDisposeScope()));
                return buffer;
            }

            /// <summary>Registers a sub-module; its entries appear under "<paramref name="name"/>.".</summary>
            protected T register_module<T>(string name, T module) where T : Module
            {
                CheckNewName(name);
                ownChildren.Add((name, module));
                return module;
            }

            /// <summary>All parameters, recursively, with dotted names in registration order.</summary>
            public IEnumerable<(string name, Parameter parameter)> named_parameters()
            {
                foreach (var (name, value) in ownParameters)
                    if (value is not null) yield return (name, value);
                foreach (var (prefix, child) in ownChildren)
                    foreach (var (name, value) in child.named_parameters())
                        yield return ($"{prefix}.{name}", value);
            }

            /// <summary>All parameters, recursively.</summary>
            public IEnumerable<Parameter> parameters() => named_parameters().Select(p => p.parameter);

            /// <summary>All buffers, recursively, with dotted names.</summary>
            public IEnumerable<(string name, Tensor buffer)> named_buffers()
            {
                foreach (var (name, value) in ownBuffers)
                    if (value is not null) yield return (name, value);
                foreach (var (prefix, child) in ownChildren)
                    foreach (var (name, value) in child.named_buffers())
                        yield return ($"{prefix}.{name}", value);
            }

            /// <summary>Direct sub-modules with their names.</summary>
            public IEnumerable<(string name, Module module)> named_children() => ownChildren.Select(c => (c.Name, c.Value));

            /// <summary>
            /// Parameters and buffers by key, in PyTorch's order (per module: its parameters, its buffers, then its
            /// children). The tensors are the module's own: do not dispose them.
            /// </summary>
            public IReadOnlyDictionary<string, Tensor> state_dict()
            {
                var result = new Dictionary<string, Tensor>();
                AddState(result, "");
                return result;
            }

            private void AddState(Dictionary<string, Tensor> result, string prefix)
            {
                foreach (var (name, value) in ownParameters)
                    if (value is not null) result.Add(prefix + name, value);
                foreach (var (name, value) in ownBuffers)
                    if (value is not null) result.Add(prefix + name, value);
                foreach (var (name, child) in ownChildren) child.AddState(result, $"{prefix}{name}.");
            }

            /// <summary>
            /// Copies values from <paramref name="source"/> into this module's tensors (same objects, new values).
            /// Shapes must match; strict loading also requires the same keys. Every problem key is reported at once.
            /// </summary>
            public StateDictComparison load_state_dict(IReadOnlyDictionary<string, Tensor> source, bool strict = true, string? sourceName = null)
            {
                var own = state_dict();
                var comparison = StateDictValidation.Check(own.Select(kv => (kv.Key, kv.Value.shape)), source, strict, sourceName);
                foreach (var (key, target) in own)
                    if (source.TryGetValue(key, out var value)) target.copy_(value);
                return comparison;
            }

            /// <summary>Sets training mode here and in every sub-module.</summary>
            public Module train(bool on = true)
            {
                training = on;
                foreach (var (_, child) in ownChildren) child.train(on);
                return this;
            }

            /// <summary>Sets evaluation mode (dropout off, batch norm uses running statistics).</summary>
            public Module eval() => train(false);

            /// <summary>Moves every parameter and buffer to <paramref name="device"/>, keeping the objects (optimisers stay valid).</summary>
            public Module to(Device device)
            {
                foreach (var (_, value) in ownParameters)
                {
                    if (value is null || value.device == device) continue;
                    using var moved = value.detach().to(device);
                    value.ReplaceWith(new Parameter(moved, value.requires_grad));
                }
                foreach (var (_, value) in ownBuffers)
                {
                    if (value is null || value.device == device) continue;
                    value.ReplaceWith(value.to(device));
                }
                foreach (var (_, child) in ownChildren) child.to(device);
                return this;
            }

            /// <summary>Clears every parameter's gradient (to none by default, as PyTorch 2 does).</summary>
            public void zero_grad(bool set_to_none = true)
            {
                foreach (var p in parameters()) p.zero_grad(set_to_none);
            }

            /// <summary>Frees the parameters and buffers of this module and its sub-modules.</summary>
            public void Dispose()
            {
                Dispose(true);
                GC.SuppressFinalize(this);
            }

            /// <summary>Frees owned tensors.</summary>
            protected virtual void Dispose(bool disposing)
            {
                if (disposed || !disposing) return;
                disposed = true;
                foreach (var (_, value) in ownParameters) value?.Dispose();
                foreach (var (_, value) in ownBuffers) value?.Dispose();
                foreach (var (_, child) in ownChildren) child.Dispose();
            }

            private void CheckNewName(string name)
            {
                if (string.IsNullOrEmpty(name) || name.Contains('.'))
                    throw new ArgumentException($"'{name}' is not a valid member name (non-empty, no '.')", nameof(name));
                if (ownParameters.Any(p => p.Name == name) || ownBuffers.Any(b => b.Name == name) || ownChildren.Any(c => c.Name == name))
                    throw new ArgumentException($"'{name}' is already registered in {GetType().Name}", nameof(name));
            }
        }

        /// <summary>A module with one input and one output.</summary>
        public abstract class Module<T, TResult> : Module
        {
            /// <summary>Computes the output.</summary>
            public abstract TResult forward(T input);

            /// <summary>Calls <see cref="forward"/>.</summary>
            public TResult call(T input) => forward(input);
        }

        /// <summary>A module with two inputs and one output.</summary>
        public abstract class Module<T1, T2, TResult> : Module
        {
            /// <summary>Computes the output.</summary>
            public abstract TResult forward(T1 input1, T2 input2);

            /// <summary>Calls <see cref="forward"/>.</summary>
            public TResult call(T1 input1, T2 input2) => forward(input1, input2);
        }
    }
}
