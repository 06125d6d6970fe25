using ImageCaptioning.Pipeline;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// A captioner loaded from a Hugging Face checkpoint folder (for example <c>nlpconnect/vit-gpt2-image-captioning</c>
/// as the hub lays it out): it preprocesses images as the checkpoint's image processor does, generates with greedy or
/// beam search on a key/value cache with the checkpoint's generation defaults, and decodes as its tokenizer does, so
/// the captions are the ones transformers' <c>generate</c> gives.
/// </summary>
public sealed class PretrainedCaptioner : IDisposable
{
    private readonly PretrainedArchitectureParts parts;
    private readonly PretrainedCaptionerOptions options;
    private readonly Device device;

    private PretrainedCaptioner(string architecture, PretrainedArchitectureParts parts, PretrainedCaptionerOptions options)
    {
        (Architecture, this.parts, this.options) = (architecture, parts, options);
        device = options.Device ?? torch.CPU;
    }

    /// <summary>The architecture config.json names (<c>VisionEncoderDecoderModel</c>, ...).</summary>
    public string Architecture { get; }

    /// <summary>The checkpoint's generation defaults (generation_config.json, else config.json).</summary>
    public GenerationSettings Generation => parts.Generation;

    /// <summary>The tokenizer the captions are decoded with.</summary>
    public ICaptionTokenizer Tokenizer => parts.Tokenizer;

    /// <summary>What loading found in the weights file besides the tensors the model uses.</summary>
    public PretrainedLoadReport LoadReport => parts.Report;

    /// <summary>Rows of the decoder's output layer: every token id a caption can hold is below it.</summary>
    public int VocabularySize => parts.Model.VocabularySize;

    /// <summary>The size the image processor resizes every image to, or null when it does not resize.</summary>
    public ImageSize? ImageSize => parts.Processor.Size;

    /// <summary>Whether the architecture takes a text prompt that the caption continues (BLIP does; ViT-GPT-2 does not).</summary>
    public bool TakesPrompt => parts.EncodePrompt is not null;

    /// <summary>
    /// Whether <paramref name="folder"/> looks like a Hugging Face checkpoint folder: its config.json is a JSON object
    /// naming <c>architectures</c> or a <c>model_type</c> at the top level, as transformers' <c>save_pretrained</c>
    /// writes it (the library's own captioner folders do not). Loading still checks everything.
    /// </summary>
    public static bool IsCheckpointFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var config = Path.Combine(folder, PretrainedFolder.ConfigFile);
        if (!File.Exists(config)) return false;
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(IO.JsonFile.ReadBytes(config, "model configuration")) is System.Text.Json.Nodes.JsonObject root
                && (root.ContainsKey("architectures") || root.ContainsKey("model_type"));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes an HTML page of <paramref name="results"/> (from <see cref="TryCaption"/>) to <paramref name="path"/>,
    /// written whole or not at all: each image (linked relative to the page, not copied) beside its caption and
    /// log-probability, or why it could not be captioned.
    /// </summary>
    public void WriteReport(string path, IReadOnlyList<CaptionAttempt> results, string? title = null) =>
        HtmlReport.WriteCaptions(path, title ?? $"Captions by {Architecture}", results);

    /// <summary>
    /// Loads a checkpoint folder: config.json (its <c>architectures</c> or <c>model_type</c> picks the loader),
    /// preprocessor_config.json, generation_config.json when present, model.safetensors or pytorch_model.bin, and the
    /// tokenizer's files. Nothing is downloaded.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file the architecture needs is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A configuration value is missing, malformed or unsupported, the architecture is
    /// unknown, a tensor is missing or mis-shaped, or the vocabulary does not fit the embeddings; the message names the
    /// file and the key. Nothing is left loaded.</exception>
    /// <exception cref="TensorFileException">The weights file is truncated, malformed or references code; the message names it.</exception>
    public static PretrainedCaptioner Load(string folder, PretrainedCaptionerOptions? options = null)
    {
        options ??= new PretrainedCaptionerOptions();
        var opened = PretrainedFolder.Open(folder);
        var architecture = PretrainedArchitectures.Resolve(opened);
        var parts = architecture.Load(opened, options.Device ?? torch.CPU);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ImageCaptioning.Pretrained");
        if (parts.Report.UnknownKeys.Count > 0)
            logger.LogWarning("{File}: {Count} tensors are not used by {Architecture}: {Keys}", parts.Report.SourceFile, parts.Report.UnknownKeys.Count,
                architecture.Architecture, string.Join(", ", parts.Report.UnknownKeys.Take(20)));
        return new PretrainedCaptioner(architecture.Architecture, parts, options);
    }

    /// <summary>Captions one image file.</summary>
    public PretrainedCaption Caption(string imagePath, PretrainedGenerationOptions? generation = null, string? prompt = null) =>
        Caption([imagePath], generation, prompt)[0];

    /// <summary>Captions image files in batches of <see cref="PretrainedCaptionerOptions.BatchSize"/>, in order.</summary>
    /// <exception cref="IOException">A file cannot be read or decoded (<see cref="ImageDecodeException"/>); the message names it.</exception>
    public IReadOnlyList<PretrainedCaption> Caption(IReadOnlyList<string> imagePaths, PretrainedGenerationOptions? generation = null, string? prompt = null)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        var captions = new List<PretrainedCaption>(imagePaths.Count);
        for (var start = 0; start < imagePaths.Count; start += options.BatchSize)
        {
            var images = new List<RgbImage>();
            try
            {
                foreach (var path in imagePaths.Skip(start).Take(options.BatchSize)) images.Add(ImageDecoder.Decode(path, options.Decoder));
                captions.AddRange(CaptionBatch(images, generation, prompt));
            }
            finally
            {
                foreach (var image in images) image.Dispose();
            }
        }
        return captions;
    }

    /// <summary>
    /// Captions image files in order, going on past files that cannot be read or decoded: result <c>i</c> holds the
    /// caption of <paramref name="imagePaths"/>[i] with its log-probability, or the exception that names the file.
    /// </summary>
    public IReadOnlyList<CaptionAttempt> TryCaption(IReadOnlyList<string> imagePaths, PretrainedGenerationOptions? generation = null, string? prompt = null)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        var results = new CaptionAttempt[imagePaths.Count];
        for (var start = 0; start < imagePaths.Count; start += options.BatchSize)
        {
            var images = new List<(int Index, RgbImage Image)>();
            try
            {
                for (var i = start; i < Math.Min(imagePaths.Count, start + options.BatchSize); i++)
                {
                    try
                    {
                        images.Add((i, ImageDecoder.Decode(imagePaths[i], options.Decoder)));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        results[i] = new CaptionAttempt(imagePaths[i], null, e);
                    }
                }
                if (images.Count == 0) continue;
                var captions = CaptionBatch([.. images.Select(p => p.Image)], generation, prompt);
                for (var j = 0; j < images.Count; j++)
                    results[images[j].Index] = new CaptionAttempt(imagePaths[images[j].Index], captions[j].Text, null) { LogProbability = captions[j].LogProbability };
            }
            finally
            {
                foreach (var (_, image) in images) image.Dispose();
            }
        }
        return results;
    }

    /// <summary>Captions decoded images (the caller keeps them) in batches, in order.</summary>
    public IReadOnlyList<PretrainedCaption> Caption(IReadOnlyList<RgbImage> images, PretrainedGenerationOptions? generation = null, string? prompt = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var captions = new List<PretrainedCaption>(images.Count);
        for (var start = 0; start < images.Count; start += options.BatchSize)
            captions.AddRange(CaptionBatch([.. images.Skip(start).Take(options.BatchSize)], generation, prompt));
        return captions;
    }

    /// <summary>The pixel values the image processor makes of <paramref name="images"/>: float32 [B, 3, H, W] on the CPU.</summary>
    public Tensor Preprocess(IReadOnlyList<RgbImage> images) => parts.Processor.Apply(images);

    /// <summary>
    /// Teacher-forced logits [B, L, V] of <paramref name="decoderInputIds"/> [B, L] (the decoder's start token first)
    /// given <paramref name="pixelValues"/> [B, 3, H, W]: the model's forward, as transformers computes it.
    /// </summary>
    public Tensor Logits(Tensor pixelValues, Tensor decoderInputIds)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        ArgumentNullException.ThrowIfNull(decoderInputIds);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return parts.Model.Logits(pixelValues.to(device), decoderInputIds.to(device)).MoveToOuterDisposeScope();
    }

    /// <summary>Generates from pixel values [B, 3, H, W] (see <see cref="Preprocess"/>).</summary>
    public IReadOnlyList<PretrainedCaption> Generate(Tensor pixelValues, PretrainedGenerationOptions? generation = null, string? prompt = null)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        var settings = parts.Generation.With(generation);
        var promptIds = prompt is null ? null : EncodePrompt(prompt);
        using var scope = torch.NewDisposeScope();
        var sequences = PretrainedGenerator.Generate(parts.Model, pixelValues.to(device), settings, promptIds, generation?.ComputeLogProbability ?? true);
        return [.. sequences.Select(s => new PretrainedCaption(
            parts.Tokenizer.Decode((promptIds ?? []).Concat(s.Tokens), skipSpecialTokens: true), s.Tokens, s.LogProbability, s.Score, s.Finished))];
    }

    private IReadOnlyList<PretrainedCaption> CaptionBatch(IReadOnlyList<RgbImage> images, PretrainedGenerationOptions? generation, string? prompt)
    {
        using var scope = torch.NewDisposeScope();
        return Generate(parts.Processor.Apply(images, device), generation, prompt);
    }

    /// <summary>
    /// The teacher-forced loss of <paramref name="captions"/> (one per image) given <paramref name="pixelValues"/>
    /// [B, 3, H, W], with its graph for <c>backward()</c>: each caption's label ids (for GPT-2 its BPE ids and the end
    /// token) padded with -100, the decoder reading them shifted right behind the start token, and the mean cross
    /// entropy over the real labels, as transformers' <c>VisionEncoderDecoderModel(pixel_values, labels=...)</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The architecture cannot be fine-tuned yet.</exception>
    /// <exception cref="ArgumentException">A caption is longer than the decoder's positions, or the counts differ.</exception>
    public Tensor Loss(Tensor pixelValues, IReadOnlyList<string> captions) => LossAndTokens(pixelValues, captions).Loss;

    /// <summary>The loss of <see cref="Loss"/> and the number of label tokens it averages over.</summary>
    /// <param name="pixelValues">The images, [B, 3, H, W].</param>
    /// <param name="captions">One caption per image.</param>
    /// <param name="promptIds">The ids of a prompt every caption continues (<see cref="EncodePrompt"/>): read by the decoder, left out of the loss and the count.</param>
    internal (Tensor Loss, long Tokens) LossAndTokens(Tensor pixelValues, IReadOnlyList<string> captions, IReadOnlyList<int>? promptIds = null)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        ArgumentNullException.ThrowIfNull(captions);
        if (captions.Count != pixelValues.size(0))
            throw new ArgumentException($"{captions.Count} captions for {pixelValues.size(0)} images", nameof(captions));
        var prefix = promptIds ?? [];
        var labels = captions.Select(c => prefix.Concat(EncodeLabels(c ?? throw new ArgumentException("a caption is null", nameof(captions)))).ToList()).ToList();
        var length = labels.Max(l => l.Count);
        if (parts.Model.MaxPositions is { } positions && length > positions)
            throw new ArgumentException($"a caption has {length} label tokens, more than the decoder's {positions} positions", nameof(captions));
        var flat = new long[labels.Count * length];
        Array.Fill(flat, PretrainedCaptionModel.IgnoredLabel);
        for (var i = 0; i < labels.Count; i++)
            for (var j = 0; j < labels[i].Count; j++) flat[(i * length) + j] = labels[i][j];
        using var scope = torch.NewDisposeScope();
        var labelTensor = torch.tensor(flat, [labels.Count, length], device: device);
        var loss = parts.Model.Loss(pixelValues.to(device), labelTensor, parts.Generation.PadId, parts.Generation.DecoderStartId, prefix.Count).MoveToOuterDisposeScope();
        return (loss, labels.Sum(l => (long)(l.Count - prefix.Count)));
    }

    /// <summary>A prompt's ids, the tokens that follow the start token before the caption's.</summary>
    /// <exception cref="ArgumentException">The architecture takes no prompt.</exception>
    internal IReadOnlyList<int> EncodePrompt(string prompt) =>
        (parts.EncodePrompt ?? throw new ArgumentException($"{Architecture} takes no text prompt", nameof(prompt)))(prompt);

    /// <summary>The text of generated ids alone (a caption's <see cref="PretrainedCaption.TokenIds"/>, without its prompt), decoded as <see cref="PretrainedCaption.Text"/> is.</summary>
    internal string DecodeTokens(IEnumerable<int> ids) => parts.Tokenizer.Decode(ids, skipSpecialTokens: true);

    /// <summary>A training caption's label ids (the end token included).</summary>
    /// <exception cref="NotSupportedException">The architecture cannot be fine-tuned yet.</exception>
    internal IReadOnlyList<int> EncodeLabels(string caption) =>
        (parts.EncodeLabels ?? throw new NotSupportedException($"{Architecture} cannot be fine-tuned yet"))(caption);

    /// <summary>Whether the architecture can be fine-tuned (it knows its training captions' labels).</summary>
    internal bool CanFineTune => parts.EncodeLabels is not null;

    /// <summary>The most label tokens a training caption may have, or null when unbounded.</summary>
    internal int? MaxLabelTokens => parts.Model.MaxPositions;

    /// <summary>The network (for the trainer's checkpoints: its state_dict keys are the checkpoint's).</summary>
    internal PretrainedCaptionModel Model => parts.Model;

    /// <summary>The device the model runs on.</summary>
    internal Device Device => device;

    /// <summary>
    /// The parameters an optimizer should update: the whole model, or the decoder (and the projection between them)
    /// alone when <paramref name="trainEncoder"/> is false, in which case the encoder's parameters stop requiring
    /// gradients.
    /// </summary>
    public IReadOnlyList<Parameter> TrainableParameters(bool trainEncoder) =>
        TrainableParameters(trainEncoder ? PretrainedEncoderTraining.All : PretrainedEncoderTraining.Frozen);

    /// <summary>
    /// The parameters an optimizer should update under <paramref name="encoder"/>: the decoder (and the projection
    /// between them) always, and none, the last <paramref name="lastLayers"/> layers (with the final layer norm) or all
    /// of the image encoder; the others stop requiring gradients, the chosen ones require them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lastLayers"/> is not within 1 and <see cref="EncoderLayers"/> for <see cref="PretrainedEncoderTraining.LastLayers"/>.</exception>
    public IReadOnlyList<Parameter> TrainableParameters(PretrainedEncoderTraining encoder, int lastLayers = 0) =>
        [.. NamedTrainableParameters(encoder, lastLayers).Select(p => p.Parameter)];

    /// <summary>Layers of the image encoder (the most <see cref="PretrainedEncoderTraining.LastLayers"/> can train).</summary>
    public int EncoderLayers => parts.Model.Encoder.Layers;

    /// <summary><see cref="TrainableParameters(PretrainedEncoderTraining, int)"/> with their state_dict names, in the model's order, and whether each is the encoder's.</summary>
    internal IReadOnlyList<(string Name, Parameter Parameter, bool InEncoder)> NamedTrainableParameters(PretrainedEncoderTraining encoder, int lastLayers)
    {
        var layout = parts.Model.Encoder;
        if (encoder == PretrainedEncoderTraining.LastLayers && (lastLayers < 1 || lastLayers > layout.Layers))
            throw new ArgumentOutOfRangeException(nameof(lastLayers), lastLayers, $"must be within 1 and the encoder's {layout.Layers} layers");
        // By name: parameters() hands out new wrappers, so the encoder's cannot be told apart by reference.
        var trainable = new List<(string, Parameter, bool)>();
        foreach (var (name, parameter) in parts.Model.named_parameters())
        {
            var trains = layout.Trains(name, encoder, lastLayers);
            parameter.requires_grad = trains;
            if (trains) trainable.Add((name, parameter, name.StartsWith(layout.Prefix, StringComparison.Ordinal)));
        }
        return trainable;
    }

    /// <summary>
    /// Saves the (fine-tuned) captioner as a checkpoint folder Hugging Face's <c>from_pretrained</c> also reads: the
    /// model's tensors under the checkpoint's key names in model.safetensors (the head tied to the embeddings left out,
    /// as transformers saves it), the source folder's config.json with <c>torch_dtype</c> set to the float32 the weights
    /// are saved in, and its other configuration and tokenizer files. The folder is written
    /// whole or not at all; an existing one is replaced only when it is empty or a checkpoint folder (has config.json).
    /// </summary>
    /// <exception cref="IOException">The folder holds something else, or a write failed.</exception>
    public void Save(string folder)
    {
        var source = parts.SourceFolder ?? throw new NotSupportedException($"{Architecture} was not loaded from a folder");
        IO.AtomicFolder.Write(folder, PretrainedFolder.ConfigFile, "checkpoint", staging =>
        {
            foreach (var file in Directory.GetFiles(source))
            {
                var name = Path.GetFileName(file);
                if (name.StartsWith('.') || name is PretrainedFolder.SafetensorsFile or PretrainedFolder.PytorchFile || name.EndsWith(".index.json", StringComparison.Ordinal)) continue;
                if (name == PretrainedFolder.ConfigFile) WriteConfig(file, Path.Combine(staging, name));
                else File.Copy(file, Path.Combine(staging, name));
            }
            using var scope = torch.NewDisposeScope();
            var tensors = parts.Model.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().cpu().contiguous());
            Safetensors.Save(Path.Combine(staging, PretrainedFolder.SafetensorsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        });
    }

    // The weights are saved as float32 whatever the source held (a float16 checkpoint is widened on loading), so the
    // config says so, at the top level and in every sub-config that records a dtype, as save_pretrained writes it.
    private static void WriteConfig(string source, string target)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(source))?.AsObject()
            ?? throw new InvalidDataException($"{source}: not a JSON object");
        config["torch_dtype"] = "float32";
        foreach (var (_, section) in config)
            if (section is System.Text.Json.Nodes.JsonObject sub && sub.ContainsKey("torch_dtype")) sub["torch_dtype"] = "float32";
        File.WriteAllText(target, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The model's tensors by the checkpoint's key names (owned by the model: do not dispose them).</summary>
    public IReadOnlyDictionary<string, Tensor> SaveableState() => parts.Model.state_dict();

    /// <summary>Frees the model.</summary>
    public void Dispose() => parts.Model.Dispose();
}
