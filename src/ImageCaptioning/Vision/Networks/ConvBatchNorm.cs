namespace ImageCaptioning.Vision;

/// <summary>
/// A convolution followed by its batch norm, as ResNet stacks them. Where the batch norm uses its running statistics
/// and nothing is recorded for gradients (eval mode, frozen: feature extraction), the pair runs as one convolution
/// whose weights and bias carry the normalisation, computed per call from the current parameters: the network makes
/// one activation-sized tensor instead of two and reads it once less. Otherwise it runs the two modules as they are.
/// </summary>
internal static class ConvBatchNorm
{
    public static Tensor Forward(Conv2d conv, BatchNorm2d norm, Tensor input)
    {
        if (norm.training || torch.is_grad_enabled() || norm.running_mean is null || norm.running_var is null
            || norm.weight is null || norm.bias is null)
            return norm.forward(conv.forward(input));

        using var scope = torch.NewDisposeScope();
        var scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps);
        var weight = conv.weight * scale.reshape(-1, 1, 1, 1);
        var shift = norm.bias - norm.running_mean * scale;
        var bias = conv.bias is null ? shift : shift + conv.bias * scale;
        return torch.nn.functional.conv2d(input, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
            .MoveToOuterDisposeScope();
    }
}
