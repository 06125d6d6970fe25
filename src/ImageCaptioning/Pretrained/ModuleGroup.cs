namespace ImageCaptioning.Pretrained;

/// <summary>
/// A module that only names its children, so that a model's state_dict keys follow a checkpoint's nesting
/// (<c>attention.attention.query</c>) while the computation lives in the class that holds the layers.
/// </summary>
internal sealed class ModuleGroup : nn.Module
{
    public ModuleGroup() : base(nameof(ModuleGroup))
    {
    }

    /// <summary>Registers <paramref name="child"/> under <paramref name="name"/> and returns this group.</summary>
    public ModuleGroup With(string name, nn.Module child)
    {
        register_module(name, child);
        return this;
    }

    protected override void RegisterComponents()
    {
    }
}

/// <summary>The activations Hugging Face configs name (<c>hidden_act</c>, <c>activation_function</c>), each computed as transformers' own.</summary>
internal static class HubActivation
{
    /// <summary>The activation named under <paramref name="key"/> of <paramref name="config"/>.</summary>
    /// <exception cref="InvalidDataException">The name is not supported; the message names the file and key.</exception>
    public static Func<Tensor, Tensor> Read(HubJson config, string key, string fallback)
    {
        var name = config.String(key) ?? fallback;
        return name switch
        {
            "gelu" => x => F.gelu(x),
            // transformers' NewGELUActivation, written out as it is there: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => NewGelu,
            "relu" => x => F.relu(x),
            "quick_gelu" => x => x.mul(torch.sigmoid(x.mul(1.702))),
            _ => throw config.Invalid(key, $"is '{name}'; supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, quick_gelu"),
        };
    }

    private static Tensor NewGelu(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var inner = x.add(torch.pow(x, 3.0).mul(0.044715)).mul(Math.Sqrt(2.0 / Math.PI));
        return x.mul(0.5).mul(torch.tanh(inner).add(1.0)).MoveToOuterDisposeScope();
    }
}
