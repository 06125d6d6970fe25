using System.Globalization;
using System.Text.Json;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>The checks the model parity tests share: closeness to the reference, with the largest difference kept for the report.</summary>
internal static class ReferenceComparison
{
    /// <summary>Asserts closeness as the other parity tests do (1e-5) and returns the largest absolute difference.</summary>
    public static double Compare(JsonElement expected, Tensor actual, string what)
    {
        TensorJson.AssertClose(expected, actual, what, rtol: 1e-5, atol: 1e-5);
        var values = actual.data<float>().ToArray();
        return expected.GetProperty("data").EnumerateArray().Select((e, i) => Math.Abs(e.GetDouble() - values[i])).DefaultIfEmpty(0).Max();
    }

    /// <summary>
    /// Asserts <paramref name="loss"/> against the reference's "loss", back-propagates it and asserts every parameter's
    /// gradient against its "gradients" (same names); returns the largest differences of the loss and the gradients.
    /// </summary>
    public static IEnumerable<(string What, double Max)> LossAndGradients(torch.nn.Module model, Tensor loss, JsonElement expected)
    {
        var expectedLoss = expected.GetProperty("loss").GetDouble();
        Assert.That(loss.ToDouble(), Is.EqualTo(expectedLoss).Within(1e-5), "loss");
        var lossDifference = Math.Abs(loss.ToDouble() - expectedLoss);
        loss.backward();
        var gradients = expected.GetProperty("gradients");
        var names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.That(names, Is.EquivalentTo(gradients.EnumerateObject().Select(p => p.Name)), "parameter names");
        var gradientMax = model.named_parameters().Max(p => Compare(gradients.GetProperty(p.name), p.parameter.grad!, $"gradient of {p.name}"));
        return [("loss", lossDifference), ("gradients", gradientMax)];
    }

    /// <summary>Writes each largest difference to the test output.</summary>
    public static void Report(string label, IEnumerable<(string What, double Max)> differences)
    {
        foreach (var (what, max) in differences)
            TestContext.Out.WriteLine($"{label}max |C# - PyTorch| {what}: {max.ToString("E2", CultureInfo.InvariantCulture)}");
    }
}
