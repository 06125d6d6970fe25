using static ImageCaptioning.Torch.torch;

namespace ImageCaptioning.Torch.Modules;

/// <summary>y = x·Wᵀ + b, initialised as torch.nn.Linear.</summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    public Linear(long in_features, long out_features, bool hasBias = true, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var w = empty([out_features, in_features], device: device);
        nn.init.kaiming_uniform_(w, Math.Sqrt(5));
        weight = register_parameter("weight", new Parameter(w))!;
        if (hasBias)
        {
            var b = empty([out_features], device: device);
            nn.init.FanInUniform(b, w);
            bias = register_parameter("bias", new Parameter(b));
        }
        else
        {
            register_parameter("bias", null);
        }
    }

    /// <summary>[out_features, in_features].</summary>
    public Parameter weight { get; }

    /// <summary>[out_features], or null.</summary>
    public Parameter? bias { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);
}
