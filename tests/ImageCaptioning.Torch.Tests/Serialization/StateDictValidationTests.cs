using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Torch.Serialization;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

[TestFixture]
public sealed class StateDictValidationTests
{
    private static (string Key, long[] Shape)[] Pairs(JsonElement list) =>
        list.EnumerateArray().Select(p => (p[0].GetString()!, TensorValues.Shape(p[1]))).ToArray();

    [Test]
    public void Check_ReportsTheSameKeysAsPyTorchsLoadStateDict()
    {
        PythonReference.Require("torch");
        using var reference = JsonDocument.Parse(PythonReference.Run("serialization_pth.py", "validation"));
        var root = reference.RootElement;
        using var scope = torch.NewDisposeScope();
        var actual = Pairs(root.GetProperty("actual")).ToDictionary(p => p.Key, p => torch.zeros(p.Shape));
        var expected = Pairs(root.GetProperty("expected"));

        var comparison = StateDictValidation.Compare(expected, actual);
        Assert.That(comparison.MissingKeys, Is.EqualTo(root.GetProperty("missing").EnumerateArray().Select(e => e.GetString())));
        Assert.That(comparison.UnexpectedKeys, Is.EqualTo(root.GetProperty("unexpected").EnumerateArray().Select(e => e.GetString())));
        Assert.That(comparison.ShapeMismatches.Select(m => m.Key), Is.EqualTo(root.GetProperty("mismatched").EnumerateArray().Select(e => e.GetString())));
        Assert.That(comparison.IsExactMatch, Is.False);

        var error = Assert.Throws<StateDictMismatchException>(() => StateDictValidation.Check(expected, actual, strict: true, source: "vgg16.pth"))!;
        Assert.That(error.MissingKeys, Is.EqualTo(comparison.MissingKeys));
        Assert.That(error.UnexpectedKeys, Is.EqualTo(comparison.UnexpectedKeys));
        Assert.That(error.ShapeMismatches, Has.Count.EqualTo(2));
        Assert.That(error.Message, Does.Contain("vgg16.pth")
            .And.Contain("Missing key(s) in state_dict: \"1.running_var\", \"2.bias\".")
            .And.Contain("Unexpected key(s) in state_dict: \"3.weight\", \"extra\".")
            .And.Contain("size mismatch for 0.weight: copying a param with shape [4, 3, 5, 5] from checkpoint, the shape in current model is [4, 3, 3, 3]."));
    }

    [Test]
    public void Check_NonStrict_AcceptsMissingAndUnexpectedKeys_ButNeverWrongShapes()
    {
        using var scope = torch.NewDisposeScope();
        var expected = new[] { ("w", new long[] { 2, 3 }), ("b", new long[] { 3 }) };
        var partial = new Dictionary<string, Tensor> { ["w"] = torch.zeros([2, 3]), ["other"] = torch.zeros([1]) };

        var comparison = StateDictValidation.Check(expected, partial, strict: false);
        Assert.That(comparison.MissingKeys, Is.EqualTo(new[] { "b" }));
        Assert.That(comparison.UnexpectedKeys, Is.EqualTo(new[] { "other" }));
        Assert.Throws<StateDictMismatchException>(() => StateDictValidation.Check(expected, partial, strict: true));

        var wrongShape = new Dictionary<string, Tensor> { ["w"] = torch.zeros([3, 2]) };
        var error = Assert.Throws<StateDictMismatchException>(() => StateDictValidation.Check(expected, wrongShape, strict: false))!;
        Assert.That(error.ShapeMismatches.Single(), Is.EqualTo(new ShapeMismatch("w", [2, 3], [3, 2])).Using<ShapeMismatch>(
            (x, y) => x.Key == y.Key && x.ExpectedShape.SequenceEqual(y.ExpectedShape) && x.ActualShape.SequenceEqual(y.ActualShape)));
        Assert.That(error.MissingKeys, Is.Empty, "non-strict loading does not treat missing keys as errors");
    }

    [Test]
    public void Check_OfAMatchingStateDict_Passes()
    {
        using var scope = torch.NewDisposeScope();
        var actual = new Dictionary<string, Tensor> { ["w"] = torch.zeros([2, 3]), ["n"] = torch.zeros([], ScalarType.Int64) };
        var comparison = StateDictValidation.Check([("w", [2, 3]), ("n", [])], actual);
        Assert.That(comparison.IsExactMatch, Is.True);
    }

    [Test]
    public void Compare_RejectsAKeyExpectedTwice()
    {
        Assert.Throws<ArgumentException>(() => StateDictValidation.Compare([("w", [1]), ("w", [1])], new Dictionary<string, Tensor>()));
    }
}
