namespace ImageCaptioning.Pretrained.VitGpt2;

/// <summary>
/// GPT-2's <c>Conv1D</c>: a linear layer whose weight is stored [in, out] (the transpose of <c>nn.Linear</c>'s),
/// computed as transformers computes it, <c>addmm(bias, x, weight)</c>.
/// </summary>
internal sealed class Conv1D : nn.Module
{
    private readonly Parameter weight, bias;
    private readonly int outputs;

    public Conv1D(int inputs, int outputs) : base(nameof(Conv1D))
    {
        this.outputs = outputs;
        weight = new Parameter(torch.empty(inputs, outputs).normal_(0, 0.02));
        bias = new Parameter(torch.zeros(outputs));
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }

    protected override void RegisterComponents()
    {
    }

    public Tensor forward(Tensor input)
    {
        using var flat = input.reshape(-1, input.size(-1));
        using var product = torch.addmm(bias, flat, weight, 1, 1);
        var shape = input.shape.ToArray();
        shape[^1] = outputs;
        return product.view(shape);
    }
}
