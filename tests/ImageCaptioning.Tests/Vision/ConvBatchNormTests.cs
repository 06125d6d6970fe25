using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>
/// ResNet's convolution + batch norm, folded into one convolution for frozen inference: the same numbers as the two
/// modules computed in float64, at the geometries ResNet-50 uses, with running statistics far from 0 and 1; and the
/// two modules as they are wherever the fold would be wrong (training statistics, gradients).
/// </summary>
[TestFixture]
[Kernels]
public sealed class ConvBatchNormTests
{
    private static readonly (int In, int Out, int Kernel, int Stride, int Padding, bool Bias)[] Geometries =
        [(3, 64, 7, 2, 3, false), (64, 64, 1, 1, 0, false), (64, 64, 3, 1, 1, false), (128, 128, 3, 2, 1, false), (256, 512, 1, 2, 0, false), (5, 9, 3, 1, 1, true)];

    [Test]
    public void FrozenInferenceEqualsTheConvolutionAndTheBatchNormInFloat64()
    {
        foreach (var (inChannels, outChannels, kernel, stride, padding, bias) in Geometries)
        {
            using var scope = torch.NewDisposeScope();
            var (conv, norm) = Pair(inChannels, outChannels, kernel, stride, padding, bias);
            var input = torch.randn(2, inChannels, 15, 15);
            Tensor folded;
            using (torch.no_grad()) folded = ConvBatchNorm.Forward(conv, norm, input);
            var expected = Float64Reference(conv, norm, input);
            var error = (folded.to(torch.float64) - expected).abs().max().item<double>();
            var scale = expected.abs().max().item<double>();
            Assert.That(error, Is.LessThanOrEqualTo(1e-5 * Math.Max(1, scale)), $"{inChannels}->{outChannels} k{kernel} s{stride} p{padding} bias={bias}");
        }
    }

    [Test]
    public void TrainingModeUsesTheBatchStatisticsAndUpdatesTheRunningOnes()
    {
        using var scope = torch.NewDisposeScope();
        var (conv, norm) = Pair(8, 16, 3, 1, 1, bias: false);
        norm.train();
        var input = torch.randn(4, 8, 9, 9);
        var before = norm.running_mean!.clone();
        using (torch.no_grad())
        {
            var output = ConvBatchNorm.Forward(conv, norm, input);
            // Batch statistics: every channel's mean over the batch and the positions is the batch norm's bias.
            Assert.That((output.mean([0, 2, 3]) - norm.bias!).abs().max().item<float>(), Is.LessThan(1e-4));
        }
        Assert.That((before - norm.running_mean!).abs().max().item<float>(), Is.GreaterThan(1e-3), "the running mean moves in training mode");
    }

    private static (Conv2d Conv, BatchNorm2d Norm) Pair(int inChannels, int outChannels, int kernel, int stride, int padding, bool bias)
    {
        torch.manual_seed(inChannels * 1000 + outChannels);
        var conv = torch.nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, bias: bias);
        var norm = torch.nn.BatchNorm2d(outChannels);
        using (torch.no_grad())
        {
            norm.running_mean!.copy_(torch.randn(outChannels) * 3);
            norm.running_var!.copy_(torch.rand(outChannels) * 5 + 0.01);
            norm.weight!.copy_(torch.randn(outChannels));
            norm.bias!.copy_(torch.randn(outChannels));
        }
        conv.eval();
        norm.eval();
        return (conv, norm);
    }

    private static Tensor Float64Reference(Conv2d conv, BatchNorm2d norm, Tensor input)
    {
        using var noGrad = torch.no_grad();
        var x = torch.nn.functional.conv2d(input.to(torch.float64), conv.weight.to(torch.float64), conv.bias?.to(torch.float64),
            conv.stride, conv.padding, conv.dilation, conv.groups);
        var shape = new long[] { 1, -1, 1, 1 };
        return (x - norm.running_mean!.to(torch.float64).reshape(shape)) / torch.sqrt(norm.running_var!.to(torch.float64).reshape(shape) + norm.eps)
            * norm.weight!.to(torch.float64).reshape(shape) + norm.bias!.to(torch.float64).reshape(shape);
    }
}
