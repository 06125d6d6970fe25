using static ImageCaptioning.Torch.torch;

namespace ImageCaptioning.Torch.Modules;

/// <summary>Zeroes activations with probability p while training.</summary>
public sealed class Dropout(double p = 0.5) : nn.Module<Tensor, Tensor>
{
    /// <summary>The drop probability.</summary>
    public double p { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "must be within [0, 1]");

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => nn.functional.dropout(input, p, training);
}

/// <summary>max(x, 0); in place (on the input's storage, returning a new handle to it) when <paramref name="inplace"/>.</summary>
public sealed class ReLU(bool inplace = false) : nn.Module<Tensor, Tensor>
{
    /// <summary>Whether the input is overwritten.</summary>
    public bool inplace { get; } = inplace;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => inplace ? input.relu_().alias() : input.relu();
}

/// <summary>Returns its input (as a new handle to the same data).</summary>
public sealed class Identity : nn.Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.alias();
}

/// <summary>Flattens dimensions start_dim..end_dim.</summary>
public sealed class Flatten(long start_dim = 1, long end_dim = -1) : nn.Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.flatten(start_dim, end_dim);
}

/// <summary>2-d max pooling.</summary>
public sealed class MaxPool2d(long kernel_size, long? stride = null, long padding = 0, long dilation = 1, bool ceil_mode = false)
    : nn.Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) =>
        nn.functional.max_pool2d(input, (kernel_size, kernel_size), (stride ?? kernel_size, stride ?? kernel_size),
            (padding, padding), (dilation, dilation), ceil_mode);
}

/// <summary>Average pooling to a fixed output size.</summary>
public sealed class AdaptiveAvgPool2d(long height, long width) : nn.Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => nn.functional.adaptive_avg_pool2d(input, (height, width));
}

/// <summary>2-d convolution, initialised as torch.nn.Conv2d.</summary>
public sealed class Conv2d : nn.Module<Tensor, Tensor>
{
    private readonly long stride, padding, dilation, groups;

    /// <summary>Creates the layer with a square kernel.</summary>
    public Conv2d(long in_channels, long out_channels, long kernel_size, long stride = 1, long padding = 0, long dilation = 1,
        long groups = 1, bool bias = true, Device? device = null)
    {
        (this.stride, this.padding, this.dilation, this.groups) = (stride, padding, dilation, groups);
        using var scope = NewDisposeScope();
        var w = empty([out_channels, in_channels / groups, kernel_size, kernel_size], device: device);
        nn.init.kaiming_uniform_(w, Math.Sqrt(5));
        weight = register_parameter("weight", new Parameter(w))!;
        if (bias)
        {
            var b = empty([out_channels], device: device);
            nn.init.FanInUniform(b, w);
            this.bias = register_parameter("bias", new Parameter(b));
        }
        else
        {
            register_parameter("bias", null);
        }
    }

    /// <summary>[out, in / groups, k, k].</summary>
    public Parameter weight { get; }

    /// <summary>[out], or null.</summary>
    public Parameter? bias { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) =>
        nn.functional.conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);
}

/// <summary>Batch normalisation over NCHW channels with running statistics (torch.nn.BatchNorm2d).</summary>
public sealed class BatchNorm2d : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer: weight 1, bias 0, running mean 0, running variance 1.</summary>
    public BatchNorm2d(long num_features, double eps = 1e-5, double momentum = 0.1, Device? device = null)
    {
        (this.eps, this.momentum) = (eps, momentum);
        using var scope = NewDisposeScope();
        weight = register_parameter("weight", new Parameter(ones([num_features], device: device)))!;
        bias = register_parameter("bias", new Parameter(zeros([num_features], device: device)))!;
        running_mean = register_buffer("running_mean", zeros([num_features], device: device));
        running_var = register_buffer("running_var", ones([num_features], device: device));
        num_batches_tracked = register_buffer("num_batches_tracked", zeros([], ScalarType.Int64, device));
    }

    /// <summary>Scale per channel.</summary>
    public Parameter weight { get; }
    /// <summary>Shift per channel.</summary>
    public Parameter bias { get; }
    /// <summary>Running mean per channel.</summary>
    public Tensor running_mean { get; }
    /// <summary>Running variance per channel.</summary>
    public Tensor running_var { get; }
    /// <summary>Batches seen in training.</summary>
    public Tensor num_batches_tracked { get; }
    /// <summary>Added to the variance.</summary>
    public double eps { get; }
    /// <summary>Running-statistics update rate.</summary>
    public double momentum { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (training)
        {
            using var next = num_batches_tracked.add(1);
            num_batches_tracked.copy_(next);
        }
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps);
    }
}

/// <summary>Modules applied in order, named "0", "1", ... as in torch.nn.Sequential.</summary>
public sealed class Sequential : nn.Module<Tensor, Tensor>
{
    private readonly List<nn.Module<Tensor, Tensor>> layers = [];

    /// <summary>Creates the chain.</summary>
    public Sequential(params nn.Module<Tensor, Tensor>[] modules)
    {
        foreach (var module in modules) Append(module);
    }

    /// <summary>Number of layers.</summary>
    public int Count => layers.Count;

    /// <summary>Layer <paramref name="index"/>.</summary>
    public nn.Module<Tensor, Tensor> this[int index] => layers[index];

    /// <summary>Adds a layer at the end, named by its position.</summary>
    public Sequential Append(nn.Module<Tensor, Tensor> module)
    {
        register_module(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        layers.Add(module);
        return this;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = input.alias();
        foreach (var layer in layers)
        {
            var next = layer.forward(x);
            x.Dispose();
            x = next;
        }
        return x;
    }
}
