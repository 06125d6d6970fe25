using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

[TestFixture]
[Kernels]
public sealed class SelfCriticalLossTests
{
    private const long End = 3;
    private const long Pad = 0;

    /// <summary>
    /// Random logits and sampled rows (some ended early, one never, one with a sampled pad before its end), through
    /// log-softmax and gather as a model's sampler gives them, against RewardCriterion in PyTorch: the mask exactly,
    /// the loss and the gradient with respect to the logits within 1e-6.
    /// </summary>
    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.Float64)]
    public void LossAndGradientEqualRewardCriterion(ScalarType dtype)
    {
        PythonReference.Require("torch");
        using var scope = torch.NewDisposeScope();
        const int rows = 6, steps = 7, vocabulary = 11;
        var random = new Random(41);
        var tokens = new long[rows * steps];
        for (var row = 0; row < rows; row++)
        {
            var end = row == 4 ? steps : random.Next(steps);
            for (var t = 0; t < steps; t++)
            {
                tokens[row * steps + t] = t < end ? NonEnd(random, vocabulary) : t == end ? End : Pad;
            }
        }
        tokens[2 * steps] = Pad;
        tokens[2 * steps + 1] = 5;
        tokens[2 * steps + 2] = End;
        for (var t = 3; t < steps; t++) tokens[2 * steps + t] = Pad;
        var rewards = Enumerable.Range(0, rows).Select(_ => random.NextDouble() * 3).ToArray();
        var baselines = Enumerable.Range(0, rows).Select(_ => random.NextDouble() * 3).ToArray();

        var generator = new torch.Generator(17);
        var logits = torch.randn([rows, steps, vocabulary], dtype: dtype, generator: generator).mul(2).requires_grad_();
        var tokenTensor = torch.tensor(tokens, [rows, steps]);

        var spec = new JsonObject
        {
            ["logits"] = new JsonObject { ["shape"] = new JsonArray(rows, steps, vocabulary), ["data"] = Doubles(logits) },
            ["dtype"] = dtype == ScalarType.Float32 ? "float32" : "float64",
            ["tokens"] = new JsonObject { ["shape"] = new JsonArray(rows, steps), ["data"] = new JsonArray([.. tokens.Select(t => (JsonNode)t)]) },
            ["end"] = End,
            ["rewards"] = new JsonArray([.. rewards.Select(r => (JsonNode)r)]),
            ["baselines"] = new JsonArray([.. baselines.Select(b => (JsonNode)b)]),
        };
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("spec.json"), spec.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("training_self_critical.py", dir.File("spec.json"))).RootElement;

        var logProbabilities = logits.log_softmax(2).gather(2, tokenTensor.unsqueeze(2)).squeeze(2);
        var sequences = SelfCriticalSequences.Read(tokenTensor, End, Pad);
        var mask = sequences.Mask(dtype: dtype);
        // Rewards arrive as float64 whatever the model computes in; the loss converts them.
        var loss = SelfCriticalLoss.Compute(logProbabilities, mask, torch.tensor(rewards), torch.tensor(baselines));
        loss.backward();

        Assert.That(Values(mask), Is.EqualTo(expected.GetProperty("mask").EnumerateArray().Select(e => e.GetDouble())), "mask");
        Assert.That(loss.dtype, Is.EqualTo(dtype));
        Assert.That(loss.ToDouble(), Is.EqualTo(expected.GetProperty("loss").GetDouble()).Within(1e-6), "loss");
        var gradient = Values(logits.grad!);
        var expectedGradient = expected.GetProperty("gradient").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.That(gradient, Has.Length.EqualTo(expectedGradient.Length));
        var largest = gradient.Select((g, i) => Math.Abs(g - expectedGradient[i])).Max();
        Assert.That(largest, Is.LessThanOrEqualTo(1e-6), "largest gradient difference");
        Assert.That(expectedGradient.Count(g => Math.Abs(g) > 1e-3), Is.GreaterThan(50), "the gradient must not be trivially zero");
        TestContext.Out.WriteLine($"{dtype}: max |C# - PyTorch| loss {Math.Abs(loss.ToDouble() - expected.GetProperty("loss").GetDouble()):E2}, gradient {largest:E2}");
    }

    /// <summary>
    /// logp = [[-1, -2, -3], [-0.5, -0.25, 0]], mask = [[1, 1, 0], [1, 1, 1]], rewards [2, 1], baselines [1, 3]:
    /// advantages 1 and -2; Σ mask·A·logp = 1·(-1 - 2) + (-2)·(-0.5 - 0.25 + 0) = -1.5 over 5 real steps, so the loss
    /// is 0.3 and its gradient -mask·A/5 = [[-0.2, -0.2, 0], [0.4, 0.4, 0.4]].
    /// </summary>
    [Test]
    public void HandComputedLossAndGradient()
    {
        using var scope = torch.NewDisposeScope();
        var logProbabilities = torch.tensor(new float[] { -1, -2, -3, -0.5f, -0.25f, 0 }, [2, 3]).requires_grad_();
        var mask = torch.tensor(new[] { true, true, false, true, true, true }, [2, 3]);

        var loss = SelfCriticalLoss.Compute(logProbabilities, mask, torch.tensor(new float[] { 2, 1 }), torch.tensor(new float[] { 1, 3 }));
        loss.backward();

        Assert.That(loss.ToDouble(), Is.EqualTo(0.3).Within(1e-7));
        Assert.That(Values(logProbabilities.grad!), Is.EqualTo(new[] { -0.2, -0.2, 0, 0.4, 0.4, 0.4 }).Within(1e-7));
    }

    [Test]
    public void ZeroAdvantageGivesZeroGradient()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.randn([4, 5, 9], generator: new torch.Generator(3)).requires_grad_();
        var logProbabilities = logits.log_softmax(2).max(2).values;
        var rewards = torch.tensor(new float[] { 0.5f, 2, 0, 1.25f });

        var loss = SelfCriticalLoss.Compute(logProbabilities, torch.ones(4, 5), rewards, rewards.clone());
        loss.backward();

        Assert.That(loss.ToDouble(), Is.EqualTo(0.0));
        Assert.That(Values(logits.grad!), Is.All.EqualTo(0.0));
    }

    [Test]
    public void NoGradientReachesTheRewardsOrBaselines()
    {
        using var scope = torch.NewDisposeScope();
        var logProbabilities = torch.full(2, 3, -1f).requires_grad_();
        var rewards = torch.tensor(new float[] { 2, 1 }).requires_grad_();
        var baselines = torch.tensor(new float[] { 1, 1 }).requires_grad_();

        SelfCriticalLoss.Compute(logProbabilities, torch.ones(2, 3), rewards, baselines).backward();

        Assert.That(rewards.grad, Is.Null);
        Assert.That(baselines.grad, Is.Null);
        Assert.That(logProbabilities.grad, Is.Not.Null);
    }

    [Test]
    public void BadShapesAreRejectedNamingTheArgument()
    {
        using var scope = torch.NewDisposeScope();
        var logProbabilities = torch.zeros(2, 3);
        var mask = torch.ones(2, 3);
        var perCaption = torch.zeros(2);

        Assert.That(() => SelfCriticalLoss.Compute(torch.zeros(2, 3, 4), mask, perCaption, perCaption),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("logProbabilities"));
        Assert.That(() => SelfCriticalLoss.Compute(torch.zeros(new long[] { 2, 3 }, ScalarType.Int64), mask, perCaption, perCaption),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("logProbabilities"));
        Assert.That(() => SelfCriticalLoss.Compute(logProbabilities, torch.ones(3, 2), perCaption, perCaption),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("mask").And.Message.Contains("[3, 2]"));
        Assert.That(() => SelfCriticalLoss.Compute(logProbabilities, mask, torch.zeros(3), perCaption),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("rewards").And.Message.Contains("[2]"));
        Assert.That(() => SelfCriticalLoss.Compute(logProbabilities, mask, perCaption, torch.zeros(2, 1)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("baselines"));
        Assert.That(() => SelfCriticalLoss.Compute(logProbabilities, torch.zeros(2, 3), perCaption, perCaption),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("mask").And.Message.Contains("no real step"));
    }

    [Test]
    public void MeanOfOtherSamplesAveragesTheRestOfEachImage()
    {
        // Image 1: 1, 2, 3 -> (2 + 3)/2, (1 + 3)/2, (1 + 2)/2; image 2: 4, 8, 0 -> 4, 2, 6.
        var baselines = SelfCriticalLoss.MeanOfOtherSamples([1, 2, 3, 4, 8, 0], 3);

        Assert.That(baselines, Is.EqualTo(new[] { 2.5, 2, 1.5, 4, 2, 6 }));
    }

    [Test]
    public void MeanOfOtherSamplesNeedsTwoSamplesAndWholeImages()
    {
        Assert.That(() => SelfCriticalLoss.MeanOfOtherSamples([1, 2], 1),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("samplesPerImage").And.Message.Contains("at least 2"));
        Assert.That(() => SelfCriticalLoss.MeanOfOtherSamples([1, 2, 3], 2),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("3 rewards are not a whole number of images of 2 samples"));
    }

    private static long NonEnd(Random random, int vocabulary)
    {
        long token;
        do token = random.Next(vocabulary); while (token == End);
        return token;
    }

    private static double[] Values(Tensor tensor)
    {
        using var asDouble = tensor.detach().to(ScalarType.Float64);
        return asDouble.ToArray<double>();
    }

    private static JsonArray Doubles(Tensor tensor) => new([.. Values(tensor).Select(v => (JsonNode)v)]);
}
