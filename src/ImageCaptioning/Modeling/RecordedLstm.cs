namespace ImageCaptioning.Modeling;

/// <summary>
/// <c>nn.LSTM</c>'s forward, kept off oneDNN's RNN inference primitive. With gradient recording off, libtorch 2.10
/// runs a float32 CPU LSTM through oneDNN's <c>forward_inference</c> RNN primitive, whose AVX-512 kernel returns wrong
/// outputs for some hidden sizes on some CPUs (AMD family 26), silently. With recording on, the same call runs
/// <c>forward_training</c>, right on every CPU and kernel family tried and as fast (README, "Right on every CPU").
/// So the forward always records; a caller that did not ask for gradients gets detached outputs, and the graph of
/// the call is freed with it.
/// </summary>
internal static class RecordedLstm
{
    /// <summary>The LSTM's output [B, T, hidden] and its final (h, c), whatever the caller's gradient mode.</summary>
    public static (Tensor Output, Tensor H, Tensor C) Forward(LSTM lstm, Tensor input, (Tensor H, Tensor C)? state = null)
    {
        if (torch.is_grad_enabled() || input.device_type != DeviceType.CPU) return lstm.forward(input, state);

        using var scope = torch.NewDisposeScope();
        Tensor output, h, c;
        using (torch.enable_grad()) (output, h, c) = lstm.forward(input, state);
        return (output.detach().MoveToOuterDisposeScope(), h.detach().MoveToOuterDisposeScope(), c.detach().MoveToOuterDisposeScope());
    }
}
