using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Pretrained.VitGpt2;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>
/// Broken checkpoint folders: each is refused with an exception naming the file and the key (or the file alone when
/// the whole file is unreadable), and a refused weights file leaves nothing loaded.
/// </summary>
[TestFixture]
public sealed class PretrainedFolderErrorTests
{
    private TempDirectory root = null!;
    private string valid = null!;

    [OneTimeSetUp]
    public void MakeFolder()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        root = new TempDirectory();
        valid = VitGpt2Fixture.Make(root, "valid", VitGpt2Fixture.Spec(["bin", "safetensors"]));
    }

    [OneTimeTearDown]
    public void RemoveFolder() => root?.Dispose();

    private string Copy(string name)
    {
        var copy = root.File(name);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(valid)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    private static void EditJson(string path, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    [Test]
    public void MissingFolderOrConfig()
    {
        Assert.Throws<DirectoryNotFoundException>(() => PretrainedCaptioner.Load(root.File("nowhere")));
        var folder = Copy("no-config");
        File.Delete(Path.Combine(folder, "config.json"));
        var e = Assert.Throws<FileNotFoundException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain(Path.Combine(folder, "config.json")));
    }

    [Test]
    public void UnknownArchitecture()
    {
        var folder = Copy("unknown-architecture");
        EditJson(Path.Combine(folder, "config.json"), c => c["architectures"] = new JsonArray("T5ForConditionalGeneration"));
        var e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("config.json").And.Contain("'architectures'").And.Contain("T5ForConditionalGeneration").And.Contain("VisionEncoderDecoderModel"));

        EditJson(Path.Combine(folder, "config.json"), c => { c.Remove("architectures"); c["model_type"] = "t5"; });
        e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("config.json").And.Contain("'model_type'").And.Contain("t5"));

        EditJson(Path.Combine(folder, "config.json"), c => c.Remove("model_type"));
        e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("'architectures'").And.Contain("missing"));

        // Without architectures, model_type alone picks the loader.
        EditJson(Path.Combine(folder, "config.json"), c => c["model_type"] = "vision-encoder-decoder");
        using var loaded = PretrainedCaptioner.Load(folder);
        Assert.That(loaded.Architecture, Is.EqualTo("VisionEncoderDecoderModel"));
    }

    [Test]
    public void BadConfigValueNamesItsKey()
    {
        var folder = Copy("bad-value");
        EditJson(Path.Combine(folder, "config.json"), c => c["decoder"]!["n_head"] = 5);
        var e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("config.json").And.Contain("'decoder.n_head'"));

        EditJson(Path.Combine(folder, "config.json"), c => { c["decoder"]!["n_head"] = 4; c["encoder"]!["hidden_act"] = "swish"; });
        e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("'encoder.hidden_act'").And.Contain("swish"));

        EditJson(Path.Combine(folder, "config.json"), c => c["encoder"]!["hidden_act"] = "gelu");
        EditJson(Path.Combine(folder, "preprocessor_config.json"), c => c["resample"] = 1);
        e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("preprocessor_config.json").And.Contain("'resample'"));
    }

    [Test]
    public void MissingTensorNamesFileAndKey()
    {
        var folder = Copy("missing-tensor");
        var path = Path.Combine(folder, "model.safetensors");
        using (var tensors = Safetensors.Load(path))
            Safetensors.Save(path, tensors.Where(t => t.Key != "decoder.transformer.h.1.crossattention.q_attn.weight").ToDictionary());
        var e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("'decoder.transformer.h.1.crossattention.q_attn.weight'").And.Contain("missing"));
    }

    [Test]
    public void WrongShapeNamesFileKeyAndShapes()
    {
        var folder = Copy("wrong-shape");
        var path = Path.Combine(folder, "model.safetensors");
        using (var tensors = Safetensors.Load(path))
        {
            var edited = tensors.ToDictionary();
            using var transposed = tensors["decoder.transformer.h.0.attn.c_attn.weight"].t().contiguous();
            edited["decoder.transformer.h.0.attn.c_attn.weight"] = transposed;
            Safetensors.Save(path, edited);
        }
        var e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("'decoder.transformer.h.0.attn.c_attn.weight'").And.Contain("[96, 32]").And.Contain("[32, 96]"));
    }

    [Test]
    public void TruncatedOrHostilePytorchFile()
    {
        var folder = Copy("truncated");
        File.Delete(Path.Combine(folder, "model.safetensors"));
        var path = Path.Combine(folder, "pytorch_model.bin");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<TensorFileException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain(path));

        PythonReference.Run(VitGpt2Fixture.Script, "hostile", path, root.File("unused.json"));
        var hostile = Assert.Throws<UnsafePickleException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(hostile.Message, Does.Contain(path));
        Assert.That(File.Exists(root.File("pwned")), Is.False, "nothing was executed");
    }

    [Test]
    public void VocabularyLargerThanTheEmbeddings()
    {
        var folder = Copy("big-vocab");
        EditJson(Path.Combine(folder, "vocab.json"), v => { v["extra1"] = 407; v["extra2"] = 408; });
        var e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("vocab.json").And.Contain("'decoder.transformer.wte.weight'").And.Contain("409"));

        EditJson(Path.Combine(folder, "vocab.json"), v => { v.Remove("extra1"); v.Remove("extra2"); v["gap"] = 500; });
        e = Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("vocab.json").And.Contain("'gap'"));
    }

    [Test]
    public void MissingTokenizerOrProcessorFiles()
    {
        var folder = Copy("no-merges");
        File.Delete(Path.Combine(folder, "merges.txt"));
        var e = Assert.Throws<FileNotFoundException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("merges.txt"));
        File.Copy(Path.Combine(valid, "merges.txt"), Path.Combine(folder, "merges.txt"));
        File.Delete(Path.Combine(folder, "preprocessor_config.json"));
        e = Assert.Throws<FileNotFoundException>(() => PretrainedCaptioner.Load(folder))!;
        Assert.That(e.Message, Does.Contain("preprocessor_config.json"));
    }

    [Test]
    public void UnknownKeysAreReportedNotRefused()
    {
        var folder = Copy("unknown-key");
        var path = Path.Combine(folder, "model.safetensors");
        using (var tensors = Safetensors.Load(path))
        {
            var edited = tensors.ToDictionary();
            using var extra = torch.zeros(3);
            edited["decoder.transformer.h.0.adapter.weight"] = extra;
            Safetensors.Save(path, edited);
        }
        using var captioner = PretrainedCaptioner.Load(folder);
        Assert.That(captioner.LoadReport.UnknownKeys, Is.EqualTo(new[] { "decoder.transformer.h.0.adapter.weight" }));
    }

    [Test]
    public void RefusedWeightsLeaveTheModelUntouched()
    {
        var folder = PretrainedFolder.Open(valid);
        var encoder = VitConfig.Read(folder.Config.Section("encoder"));
        var decoder = Gpt2Config.Read(folder.Config.Section("decoder"));
        using var model = new VisionEncoderDecoderModel(encoder, decoder);
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        var (tensors, source) = folder.ReadWeights();
        using (tensors)
        {
            var broken = tensors.Where(t => t.Key != "decoder.transformer.ln_f.bias").ToDictionary();
            Assert.Throws<InvalidDataException>(() => PretrainedWeights.Bind(model, broken, source, VisionEncoderDecoderModel.IsIgnorable, model.TiedKeys));
        }
        foreach (var (key, value) in model.state_dict())
            Assert.That(value.eq(before[key]).all().item<bool>(), Is.True, $"{key} was changed by a refused file");
        foreach (var t in before.Values) t.Dispose();
    }
}
