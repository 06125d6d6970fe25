using ImageCaptioning.Torch.Modules;
using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch.Modules
{
    /// <summary>
    /// Adam (Kingma and Ba), following torch.optim.Adam's single-tensor update step by step, with a step count per
    /// parameter. The whole update runs in one native call.
    /// </summary>
    public sealed class Adam : torch.optim.Optimizer
    {
        private readonly Tensor[] expAvg;
        private readonly Tensor[] expAvgSq;
        private readonly long[] steps;

        internal Adam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weightDecay)
            : base(parameters, lr)
        {
            if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "must be within [0, 1)");
            if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "must be within [0, 1)");
            (this.beta1, this.beta2, this.eps, this.weight_decay) = (beta1, beta2, eps, weightDecay);
            expAvg = Parameters.Select(ZerosLike).ToArray();
            expAvgSq = Parameters.Select(ZerosLike).ToArray();
            steps = new long[Parameters.Count];
        }

        /// <summary>First-moment decay.</summary>
        public double beta1 { get; }
        /// <summary>Second-moment decay.</summary>
        public double beta2 { get; }
        /// <summary>Added to the denominator.</summary>
        public double eps { get; }
        /// <summary>L2 penalty added to the gradient.</summary>
        public double weight_decay { get; }

        /// <inheritdoc />
        public override unsafe void step()
        {
            var p = Tensor.Handles(Parameters);
            var m = Tensor.Handles(expAvg);
            var v = Tensor.Handles(expAvgSq);
            fixed (IntPtr* pp = p)
            fixed (IntPtr* mp = m)
            fixed (IntPtr* vp = v)
            fixed (long* sp = steps)
                ThrowHelper.CheckStatus(NativeMethods.ic_adam_step(pp, mp, vp, sp, p.Length, lr, beta1, beta2, eps, weight_decay));
            GC.KeepAlive(expAvg);
            GC.KeepAlive(expAvgSq);
        }

        /// <inheritdoc />
        public override Dictionary<string, Tensor> state_dict()
        {
            var state = new Dictionary<string, Tensor>();
            for (var i = 0; i < steps.Length; i++)
            {
                state[$"{i}.step"] = torch.tensor([steps[i]], []).DetachFromDisposeScope();
                state[$"{i}.exp_avg"] = expAvg[i].clone().DetachFromDisposeScope();
                state[$"{i}.exp_avg_sq"] = expAvgSq[i].clone().DetachFromDisposeScope();
            }
            return state;
        }

        /// <inheritdoc />
        public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
        {
            for (var i = 0; i < steps.Length; i++)
            {
                steps[i] = Required(state, $"{i}.step").item<long>();
                expAvg[i].copy_(Required(state, $"{i}.exp_avg"));
                expAvgSq[i].copy_(Required(state, $"{i}.exp_avg_sq"));
            }
        }

        /// <inheritdoc />
        public override void Dispose()
        {
            foreach (var t in expAvg) t.Dispose();
            foreach (var t in expAvgSq) t.Dispose();
        }

        private static Tensor ZerosLike(Parameter p) => torch.zeros(p.shape, p.dtype, p.device).DetachFromDisposeScope();
    }

    /// <summary>Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.</summary>
    public sealed class SGD : torch.optim.Optimizer
    {
        private readonly IntPtr[] momentumHandles;
        private readonly Tensor?[] momentumBuffers;

        internal SGD(IEnumerable<Parameter> parameters, double lr, double momentum, double dampening, double weightDecay, bool nesterov)
            : base(parameters, lr)
        {
            if (nesterov && (momentum <= 0 || dampening != 0))
                throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening", nameof(nesterov));
            (this.momentum, this.dampening, this.weight_decay, this.nesterov) = (momentum, dampening, weightDecay, nesterov);
            momentumHandles = new IntPtr[Parameters.Count];
            momentumBuffers = new Tensor?[Parameters.Count];
        }

        /// <summary>Momentum factor.</summary>
        public double momentum { get; }
        /// <summary>Dampening of the momentum.</summary>
        public double dampening { get; }
        /// <summary>L2 penalty.</summary>
        public double weight_decay { get; }
        /// <summary>Whether momentum is Nesterov's.</summary>
        public bool nesterov { get; }

        /// <inheritdoc />
        public override unsafe void step()
        {
            var p = Tensor.Handles(Parameters);
            for (var i = 0; i < momentumBuffers.Length; i++)
                momentumHandles[i] = momentumBuffers[i]?.Handle.DangerousGetHandle() ?? IntPtr.Zero;
            fixed (IntPtr* pp = p)
            fixed (IntPtr* mp = momentumHandles)
                ThrowHelper.CheckStatus(NativeMethods.ic_sgd_step(pp, mp, p.Length, lr, momentum, dampening, weight_decay, nesterov ? 1 : 0));
            // The shim creates a buffer on a parameter's first step: adopt the new handles.
            for (var i = 0; i < momentumBuffers.Length; i++)
                if (momentumBuffers[i] is null && momentumHandles[i] != IntPtr.Zero)
                    momentumBuffers[i] = new Tensor(momentumHandles[i]).DetachFromDisposeScope();
            GC.KeepAlive(momentumBuffers);
        }

        /// <inheritdoc />
        public override Dictionary<string, Tensor> state_dict()
        {
            var state = new Dictionary<string, Tensor>();
            for (var i = 0; i < momentumBuffers.Length; i++)
                if (momentumBuffers[i] is { } buffer) state[$"{i}.momentum_buffer"] = buffer.clone().DetachFromDisposeScope();
            return state;
        }

        /// <inheritdoc />
        public override void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
        {
            for (var i = 0; i < momentumBuffers.Length; i++)
            {
                momentumBuffers[i]?.Dispose();
                momentumBuffers[i] = state.TryGetValue($"{i}.momentum_buffer", out var saved) ? saved.clone().DetachFromDisposeScope() : null;
            }
        }

        /// <inheritdoc />
        public override void Dispose()
        {
            foreach (var t in momentumBuffers) t?.Dispose();
        }
    }
}
