using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// Which oneDNN primitives the library's inference executes, read from oneDNN's own log (<c>ONEDNN_VERBOSE=1</c> in
/// a child process: one <c>onednn_verbose,...,primitive,exec,cpu,KIND,IMPL,PROP,...</c> line per execution). The
/// faulty kernels only misbehave on some CPUs, but whether they run can be checked on any: the LSTMs never run the RNN
/// inference primitive, and the CNNs never hold a tensor in oneDNN's blocked layout (no sum, pooling, eltwise or
/// batch-norm primitive, which libtorch reaches only for blocked tensors). Those checks force oneDNN on
/// (<c>IMAGECAPTIONING_ONEDNN=on</c>), so they see its primitives on every CPU, including one where the library
/// would switch it off; where it is off, nothing runs through it at all.
/// </summary>
[TestFixture]
[Kernels]
public sealed class OneDnnPrimitiveTests
{
    private static readonly Dictionary<string, string?> Verbose = new() { ["ONEDNN_VERBOSE"] = "1", ["IMAGECAPTIONING_ONEDNN"] = "on" };
    private static readonly Dictionary<string, string?> VerboseOff = new() { ["ONEDNN_VERBOSE"] = "1", ["IMAGECAPTIONING_ONEDNN"] = "off" };

    [Test]
    public void TheLstmsNeverRunTheRnnInferencePrimitive()
    {
        var child = ChildProcess.Run(typeof(OneDnnPrimitiveTests), nameof(RunLstmInference), environment: Verbose);
        child.AssertSucceeded();
        var rnn = Executed(child.StandardOutput).Where(p => p.Kind == "rnn").ToArray();

        Assert.That(rnn, Is.Not.Empty, "oneDNN logged no RNN primitive, so this check saw nothing\n" + child.Transcript);
        Assert.That(rnn.Where(p => p.Propagation == "forward_inference").Select(p => p.Line), Is.Empty, "the RNN inference primitive ran");
    }

    [Test]
    public void TheCnnsKeepTheirTensorsOutOfTheBlockedLayout()
    {
        var child = ChildProcess.Run(typeof(OneDnnPrimitiveTests), nameof(RunCnnInference), environment: Verbose);
        child.AssertSucceeded();
        var executed = Executed(child.StandardOutput).ToArray();

        Assert.That(executed.Where(p => p.Kind == "convolution"), Is.Not.Empty, "oneDNN logged no convolution, so this check saw nothing\n" + child.Transcript);
        string[] blockedOnly = ["sum", "pooling", "eltwise", "batch_normalization", "binary"];
        Assert.That(executed.Where(p => blockedOnly.Contains(p.Kind)).Select(p => p.Line).Distinct(), Is.Empty,
            "primitives that libtorch runs only on tensors in oneDNN's blocked layout");
    }

    [Test]
    public void WithOneDnnOffNoNetworkRunsAnyOneDnnPrimitive()
    {
        foreach (var work in new[] { nameof(RunCnnInference), nameof(RunLstmInference), nameof(RunCnnTrainingStep) })
        {
            var on = ChildProcess.Run(typeof(OneDnnPrimitiveTests), work, environment: Verbose);
            on.AssertSucceeded();
            Assert.That(Executed(on.StandardOutput).Where(p => p.Kind is "convolution" or "rnn"), Is.Not.Empty,
                $"{work} with oneDNN on logged no convolution or RNN primitive, so the check with it off would see nothing\n" + on.Transcript);

            var off = ChildProcess.Run(typeof(OneDnnPrimitiveTests), work, environment: VerboseOff);
            off.AssertSucceeded();
            Assert.That(Executed(off.StandardOutput).Select(p => p.Line).Distinct(), Is.Empty, $"{work} ran oneDNN primitives with {OneDnnVariable}=off");
        }
    }

    [Test]
    public void AnUnknownSettingFailsTheLoadNamingIt()
    {
        var child = ChildProcess.Run(typeof(OneDnnPrimitiveTests), nameof(RunCnnInference), environment: new Dictionary<string, string?> { [OneDnnVariable] = "sometimes" });
        Assert.That(child.ExitCode, Is.Not.Zero, child.Transcript);
        Assert.That(child.StandardError, Does.Contain("TorchLoadException").And.Contain($"{OneDnnVariable}='sometimes' is not one of auto, on, off"));
    }

    private const string OneDnnVariable = "IMAGECAPTIONING_ONEDNN";

    /// <summary>The child's work: a training step of the small CNN encoder, forward and backward.</summary>
    public static void RunCnnTrainingStep()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var encoder = new ImageCaptioning.Encoders.SmallCnnEncoder();
        encoder.train();
        var images = torch.randn([2, encoder.InputDimension]);
        encoder.forward(images).square().sum().backward();
    }

    /// <summary>The child's work: every LSTM architecture's inference, in each way a caller can be without gradients.</summary>
    public static void RunLstmInference()
    {
        foreach (var architecture in new[] { CaptionArchitecture.InitInject, CaptionArchitecture.Merge })
            foreach (var layers in new[] { 1, 2 })
            {
                using var scope = torch.NewDisposeScope();
                torch.manual_seed(1);
                using var model = CaptionModel.Create(new CaptionModelOptions
                {
                    Architecture = architecture, VocabularySize = 20, FeatureDimension = 6, EmbeddingSize = 12, HiddenSize = 16, Layers = layers,
                });
                var features = torch.randn([3, 6]);
                var tokens = torch.randint(1, 20, [3, 5], dtype: ScalarType.Int64);
                foreach (var training in new[] { false, true })
                {
                    model.train(training);
                    using (torch.no_grad())
                    {
                        model.Hidden(features, tokens);
                        model.Decode(features, 1, 2, DecodingOptions.Greedy with { MaxLength = 4 });
                        model.Decode(features, 1, 2, new DecodingOptions { Strategy = DecodingStrategy.Beam, BeamWidth = 3, MaxLength = 4 });
                    }
                    using (torch.inference_mode()) model.Hidden(features, tokens);
                }
            }
    }

    /// <summary>The child's work: VGG16 and ResNet-50 forward in eval mode without gradients, as extraction runs them.</summary>
    public static void RunCnnInference()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var images = torch.randn([2, 3, 64, 64]);
        using (torch.no_grad())
        {
            foreach (var output in new[] { ResNet50Output.Pooled, ResNet50Output.Layer4 })
            {
                using var resnet = new ResNet50(output);
                resnet.eval();
                resnet.forward(images);
            }
            using var vgg = new Vgg16(Vgg16Output.Fc7);
            vgg.eval();
            vgg.forward(images);
        }
    }

    private static IEnumerable<(string Kind, string Implementation, string Propagation, string Line)> Executed(string log)
    {
        foreach (var line in log.Split('\n'))
        {
            var fields = line.Split(',');
            var exec = Array.IndexOf(fields, "exec");
            if (!line.StartsWith("onednn_verbose", StringComparison.Ordinal) || exec < 0 || fields.Length < exec + 5 || fields[exec - 1] != "primitive") continue;
            yield return (fields[exec + 2], fields[exec + 3], fields[exec + 4], line.TrimEnd('\r'));
        }
    }
}
