using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// Broken BLIP folders: a missing or mis-shaped tensor, a vocabulary that does not fit the embedding rows or whose
/// [DEC]/[SEP] ids are not the config's, a missing sub-config or file, unsupported generation settings. Each is an
/// exception naming the file and the key or token.
/// </summary>
[TestFixture]
public sealed class BlipLoadingErrorTests
{
    private BlipCheckpoint checkpoint = null!;
    private TempDirectory root = null!;

    [OneTimeSetUp]
    public void MakeFolder()
    {
        checkpoint = BlipCheckpoint.Create();
        root = new TempDirectory();
    }

    [OneTimeTearDown]
    public void RemoveFolder()
    {
        checkpoint?.Dispose();
        root?.Dispose();
    }

    private string Copy(string name)
    {
        var copy = root.File(name);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(checkpoint.Folder)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    private static void EditJson(string path, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    private static InvalidDataException Refused(string folder) => Assert.Throws<InvalidDataException>(() => PretrainedCaptioner.Load(folder).Dispose())!;

    [Test]
    public void ValidFolderLoads()
    {
        using var captioner = PretrainedCaptioner.Load(Copy("valid"));
        Assert.That(captioner.Architecture, Is.EqualTo("BlipForConditionalGeneration"));
    }

    [Test]
    public void HubConfigWithSerialisedGenerationDefaultsLoads()
    {
        // config.json as transformers 4.2x wrote it: every PretrainedConfig attribute of both sub-configs, many null.
        var folder = Copy("hub-style");
        var serialised = new JsonObject
        {
            ["bad_words_ids"] = null, ["begin_suppress_tokens"] = null, ["chunk_size_feed_forward"] = 0, ["cross_attention_hidden_size"] = null,
            ["decoder_start_token_id"] = null, ["diversity_penalty"] = 0.0, ["do_sample"] = false, ["early_stopping"] = false,
            ["encoder_no_repeat_ngram_size"] = 0, ["exponential_decay_length_penalty"] = null, ["finetuning_task"] = null, ["forced_bos_token_id"] = null,
            ["forced_eos_token_id"] = null, ["length_penalty"] = 1.0, ["max_length"] = 20, ["min_length"] = 0, ["no_repeat_ngram_size"] = 0,
            ["num_beam_groups"] = 1, ["num_beams"] = 1, ["num_return_sequences"] = 1, ["output_scores"] = false, ["repetition_penalty"] = 1.0,
            ["temperature"] = 1.0, ["top_k"] = 50, ["top_p"] = 1.0, ["typical_p"] = 1.0, ["use_bfloat16"] = false, ["label_smoothing"] = 0.0,
        };
        EditJson(Path.Combine(folder, "config.json"), c =>
        {
            foreach (var section in new[] { "text_config", "vision_config" })
                foreach (var (key, value) in serialised) c[section]![key] ??= value?.DeepClone();
            c["text_config_dict"] = null;
            c["vision_config_dict"] = null;
        });
        using var captioner = PretrainedCaptioner.Load(folder);
        var generation = captioner.Generation;
        Assert.That((generation.MaxLength, generation.NumBeams, generation.LengthPenalty, generation.EarlyStopping), Is.EqualTo((20, 1, 1.0, false)));
        Assert.That((generation.DecoderStartId, generation.PadId), Is.EqualTo((44, 0)));
        Assert.That(generation.EndIds, Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void MissingTensorIsNamed()
    {
        var folder = Copy("missing-tensor");
        const string Key = "text_decoder.bert.encoder.layer.1.crossattention.self.key.weight";
        var path = Path.Combine(folder, "model.safetensors");
        using (var tensors = Safetensors.Load(path))
            Safetensors.Save(path, tensors.Where(pair => pair.Key != Key).ToDictionary(pair => pair.Key, pair => pair.Value));
        var e = Refused(folder);
        Assert.That(e.Message, Does.Contain(path).And.Contain($"'{Key}'").And.Contain("missing"));
    }

    [Test]
    public void WrongShapeIsNamed()
    {
        var folder = Copy("wrong-shape");
        EditJson(Path.Combine(folder, "config.json"), c => c["text_config"]!["intermediate_size"] = 32);
        var e = Refused(folder);
        Assert.That(e.Message, Does.Contain("model.safetensors").And.Contain("'text_decoder.bert.encoder.layer.0.intermediate.dense.weight'")
            .And.Contain("[24, 16]").And.Contain("[32, 16]"));

        EditJson(Path.Combine(folder, "config.json"), c => { c["text_config"]!["intermediate_size"] = 24; c["vision_config"]!["patch_size"] = 16; });
        e = Refused(folder);
        Assert.That(e.Message, Does.Contain("'vision_model.embeddings.position_embedding'").And.Contain("[1, 17, 16]").And.Contain("[1, 5, 16]"));
    }

    [Test]
    public void VocabularyLargerThanTheEmbeddingRows()
    {
        var folder = Copy("vocabulary-too-large");
        File.AppendAllLines(Path.Combine(folder, "vocab.txt"), Enumerable.Range(0, 10).Select(i => $"extra{i}"));
        var e = Refused(folder);
        Assert.That(e.Message, Does.Contain(Path.Combine(folder, "vocab.txt")).And.Contain("54 tokens")
            .And.Contain("'text_decoder.bert.embeddings.word_embeddings.weight' has 46 rows"));
    }

    [Test]
    public void VocabularyOfAnotherModelPutsDecElsewhere()
    {
        var folder = Copy("other-vocabulary");
        var lines = File.ReadAllLines(Path.Combine(folder, "vocab.txt"));
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), lines[..^2]);
        File.Delete(Path.Combine(folder, "added_tokens.json"));
        var e = Refused(folder);
        Assert.That(e.Message, Does.Contain("vocab.txt").And.Contain("'[DEC]' has id 42").And.Contain("'text_config.bos_token_id'").And.Contain("44"));

        // With added_tokens.json kept, its ids no longer follow the vocabulary.
        File.Copy(checkpoint.File("added_tokens.json"), Path.Combine(folder, "added_tokens.json"));
        e = Refused(folder);
        Assert.That(e.Message, Does.Contain("added_tokens.json").And.Contain("'[DEC]' has id 44").And.Contain("42 tokens"));
    }

    [Test]
    public void MissingDecIsRefused()
    {
        var folder = Copy("missing-dec");
        File.WriteAllText(Path.Combine(folder, "added_tokens.json"), "{\"[ENC]\": 44}");
        var e = Refused(folder);
        Assert.That(e.Message, Does.Contain("added_tokens.json").And.Contain("'[DEC]' has id 45").And.Contain("'text_config.bos_token_id'"));
    }

    [Test]
    public void EndAndPadIdsMustBeTheVocabularys()
    {
        var folder = Copy("sep-id");
        EditJson(Path.Combine(folder, "config.json"), c => c["text_config"]!["sep_token_id"] = 4);
        var e = Refused(folder);
        Assert.That(e.Message, Does.Contain("'[SEP]' has id 3").And.Contain("'text_config.sep_token_id'"));

        EditJson(Path.Combine(folder, "config.json"), c => { c["text_config"]!["sep_token_id"] = 3; c["text_config"]!["pad_token_id"] = 1; });
        e = Refused(folder);
        Assert.That(e.Message, Does.Contain("'[PAD]' has id 0").And.Contain("'text_config.pad_token_id'"));

        EditJson(Path.Combine(folder, "config.json"), c => { c["text_config"]!["pad_token_id"] = 0; c["text_config"]!["bos_token_id"] = 46; });
        e = Refused(folder);
        Assert.That(e.Message, Does.Contain("config.json").And.Contain("'text_config.bos_token_id'").And.Contain("vocab_size 46"));
    }

    [Test]
    public void MissingPartsAreNamed()
    {
        var folder = Copy("no-vision-config");
        EditJson(Path.Combine(folder, "config.json"), c => c.Remove("vision_config"));
        Assert.That(Refused(folder).Message, Does.Contain("config.json").And.Contain("'vision_config'").And.Contain("missing"));

        folder = Copy("no-vocabulary");
        File.Delete(Path.Combine(folder, "vocab.txt"));
        var missing = Assert.Throws<FileNotFoundException>(() => PretrainedCaptioner.Load(folder).Dispose())!;
        Assert.That(missing.Message, Does.Contain(Path.Combine(folder, "vocab.txt")));

        folder = Copy("no-basic-tokenization");
        EditJson(Path.Combine(folder, "tokenizer_config.json"), c => c["do_basic_tokenize"] = false);
        Assert.That(Refused(folder).Message, Does.Contain("tokenizer_config.json").And.Contain("'do_basic_tokenize'"));

        folder = Copy("bad-activation");
        EditJson(Path.Combine(folder, "config.json"), c => c["vision_config"]!["hidden_act"] = "swish");
        Assert.That(Refused(folder).Message, Does.Contain("'vision_config.hidden_act'").And.Contain("swish"));
    }

    [Test]
    public void UnsupportedGenerationSettingsAreRefused()
    {
        var folder = Copy("repetition-penalty");
        EditJson(Path.Combine(folder, "config.json"), c => c["text_config"]!["repetition_penalty"] = 1.5);
        Assert.That(Refused(folder).Message, Does.Contain("'text_config.repetition_penalty'"));

        folder = Copy("forced-eos");
        EditJson(Path.Combine(folder, "config.json"), c => c["forced_eos_token_id"] = 3);
        Assert.That(Refused(folder).Message, Does.Contain("config.json").And.Contain("'forced_eos_token_id'"));

        folder = Copy("generation-config");
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), "{\"num_beams\": 3, \"min_length\": 5}");
        Assert.That(Refused(folder).Message, Does.Contain("generation_config.json").And.Contain("'min_length'"));

        folder = Copy("image-size");
        EditJson(Path.Combine(folder, "preprocessor_config.json"), c => c["size"] = new JsonObject { ["height"] = 64, ["width"] = 64 });
        Assert.That(Refused(folder).Message, Does.Contain("preprocessor_config.json").And.Contain("'size'").And.Contain("32x32"));
    }
}
