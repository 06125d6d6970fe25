// Captions image files with a saved captioner (the model folder that QuickStart or TrainFlickr8k writes): the folder
// records the CNN and weights the model was trained on, and Captioner.Load rebuilds that extractor, so new images get
// the same features as the training images. A Hugging Face checkpoint folder (config.json naming its `architectures`,
// e.g. nlpconnect/vit-gpt2-image-captioning or Salesforce/blip-image-captioning-base) is captioned by
// PretrainedCaptioner instead, with the checkpoint's generation defaults, progress on stderr and, with --report, an
// HTML page. Prints one "path: caption" line per image, in the order given.
using System.CommandLine;
using System.CommandLine.Parsing;
using CaptionImages;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Samples;
using ImageCaptioning.Vision;

var model = new Argument<string>("model",
    "A saved captioner folder (config.json beside the model files), e.g. quickstart-output/model, or a Hugging Face checkpoint folder (ViT-GPT-2 or BLIP).");
var inputs = new Argument<string[]>("images", "Image files (JPEG or PNG) and/or folders; a folder contributes its *.jpg, *.jpeg and *.png files.")
{
    Arity = ArgumentArity.OneOrMore,
};
var beam = new Option<int?>("--beam", "Beam search with this many beams instead of greedy decoding.");
var temperature = new Option<double?>("--temperature", "Sample each word from softmax(logits / T) instead of taking the most likely one.");
var topK = new Option<int?>("--top-k", "With --temperature: sample only among the K most likely words.");
var seed = new Option<long?>("--seed", "With --temperature: seeds the sampling, so the same seed gives the same captions.");
var maxLength = new Option<int?>("--max-length", "Most words per caption. Default: the model's.");
var device = new Option<string?>("--device", "cpu or cuda. Default: cpu.");
var maxPixels = new Option<long?>("--max-pixels",
    "Refuse images whose width x height exceeds this, before decoding them. Default: PIL's limit, lowered so the decode threads' images fit in half the memory.");

var prompt = new Option<string?>("--prompt", "BLIP checkpoints: captions continue this text (e.g. \"a picture of\").");
var report = new Option<string?>("--report", "Hugging Face checkpoints: also write an HTML page of the images and their captions to this file.");

var allowEdited = new Option<bool>("--allow-edited",
    "Load a model folder whose config.json was edited by hand, or one saved by an earlier version without digests of its settings (FolderIntegrity.AllowEdited).");

var command = new RootCommand("Captions images with a saved captioner.") { model, inputs, beam, temperature, topK, seed, maxLength, device, maxPixels, prompt, report, allowEdited };
command.AddValidator(result =>
{
    var sampling = result.FindResultFor(temperature) is not null;
    if (sampling && result.FindResultFor(beam) is not null)
        result.ErrorMessage = "--beam and --temperature exclude each other: beam search keeps the most likely captions, sampling draws at random";
    else if (!sampling && (result.FindResultFor(seed) is not null || result.FindResultFor(topK) is not null))
        result.ErrorMessage = "--seed and --top-k apply to sampling: add --temperature T";
});
foreach (var option in new Option[] { beam, topK, maxLength, maxPixels }) OptionRules.Range(option, 1);
OptionRules.Positive(temperature);

command.SetHandler(context =>
{
    var parsed = context.ParseResult;
    context.ExitCode = Run(
        Path.GetFullPath(parsed.GetValueForArgument(model)), parsed.GetValueForArgument(inputs),
        parsed.GetValueForOption(beam), parsed.GetValueForOption(temperature), parsed.GetValueForOption(topK),
        parsed.GetValueForOption(seed), parsed.GetValueForOption(maxLength), parsed.GetValueForOption(device), parsed.GetValueForOption(maxPixels),
        parsed.GetValueForOption(allowEdited) ? FolderIntegrity.AllowEdited : FolderIntegrity.Verified,
        new CheckpointSettings(parsed.GetValueForOption(prompt), parsed.GetValueForOption(report)));
});

return await BadInput.RunAsync(command, args);

static int Run(string modelFolder, string[] inputs, int? beam, double? temperature, int? topK, long? seed, int? maxLength, string? deviceName, long? maxPixels,
    FolderIntegrity integrity, CheckpointSettings checkpoint)
{
    var problems = new List<string>();
    var pretrained = PretrainedCaptioner.IsCheckpointFolder(modelFolder);
    if (pretrained && temperature is not null) problems.Add("--temperature: a pretrained checkpoint is captioned with greedy or beam search (--beam N)");
    if (pretrained && maxLength is < 2) problems.Add("--max-length: a pretrained checkpoint counts the start token, so it needs at least 2");
    if (!pretrained && checkpoint.Prompt is not null) problems.Add("--prompt applies to a Hugging Face BLIP checkpoint folder, not to a saved captioner");
    if (!pretrained && checkpoint.Report is not null) problems.Add("--report applies to a Hugging Face checkpoint folder; a saved captioner's report is written by QuickStart or TrainFlickr8k");
    if (checkpoint.Report is { } page && Directory.Exists(page)) problems.Add($"--report: '{page}' is a folder; name the HTML file to write");
    if (!File.Exists(Path.Combine(modelFolder, CaptionModelBundle.ConfigFileName)))
        problems.Add(Directory.Exists(modelFolder)
            ? $"'{modelFolder}' is not a saved captioner: it has no {CaptionModelBundle.ConfigFileName}. Pass the model/ folder that QuickStart or TrainFlickr8k writes (Captioner.Save)."
            : $"the model folder '{modelFolder}' does not exist. Train one first, e.g. ./build.sh demo (writes quickstart-output/model).");
    var images = ImageInputs.Expand(inputs, problems);
    var target = torch.CPU;
    if (deviceName is not null)
    {
        try { target = new Device(deviceName); }
        catch (Exception e) when (e is FormatException or ArgumentException) { problems.Add($"--device: {e.Message}"); }
        if (target.type != DeviceType.CPU && !torch.cuda.is_available()) problems.Add($"--device {deviceName}: this libtorch has no usable CUDA device");
    }
    if (problems.Count > 0)
    {
        foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
        return ExitCodes.BadInput;
    }

    var decoder = maxPixels is { } limit ? new ImageDecoderOptions { MaxPixelCount = limit } : null;
    if (pretrained) return CaptionWithCheckpoint(modelFolder, images, beam, maxLength, target, decoder, checkpoint);
    using var captioner = Captioner.Load(modelFolder, target, decoder: decoder, integrity: integrity);
    var decoding = captioner.Bundle.Decoding;
    if (beam is { } width) decoding = decoding with { Strategy = DecodingStrategy.Beam, BeamWidth = width };
    if (temperature is { } t) decoding = decoding with { Strategy = DecodingStrategy.Sample, Temperature = t, TopK = topK ?? 0, Seed = seed };
    if (maxLength is { } length) decoding = decoding with { MaxLength = length };

    // An unreadable image is reported and skipped, so one bad file in a folder costs only its own caption.
    var failed = 0;
    foreach (var result in captioner.TryCaption(images, decoding))
    {
        if (result.Succeeded)
        {
            Console.WriteLine($"{result.Path}: {result.Caption}");
            continue;
        }
        failed++;
        BadInput.Report(result.Error!);
    }
    if (failed == 0) return ExitCodes.Success;
    Console.Error.WriteLine($"error: {failed} of {images.Count} images could not be captioned");
    return ExitCodes.BadInput;
}

// A Hugging Face checkpoint folder: its own processor, generation defaults (overridden by --beam, --max-length) and
// tokenizer; each caption is followed by its log-probability, the model's confidence in it. Batch by batch, so that
// stderr shows the progress of a large folder.
static int CaptionWithCheckpoint(string folder, IReadOnlyList<string> images, int? beam, int? maxLength, Device device, ImageDecoderOptions? decoder,
    CheckpointSettings settings)
{
    using var captioner = PretrainedCaptioner.Load(folder, new PretrainedCaptionerOptions { Device = device, Decoder = decoder ?? ImageDecoderOptions.Default });
    if (settings.Prompt is not null && !captioner.TakesPrompt)
    {
        Console.Error.WriteLine($"error: --prompt: {captioner.Architecture} takes no text prompt (BLIP checkpoints do)");
        return ExitCodes.BadInput;
    }
    var generation = new PretrainedGenerationOptions { NumBeams = beam, MaxLength = maxLength };
    var results = new List<CaptionAttempt>(images.Count);
    const int Batch = 16;
    for (var start = 0; start < images.Count; start += Batch)
    {
        foreach (var result in captioner.TryCaption([.. images.Skip(start).Take(Batch)], generation, settings.Prompt))
        {
            results.Add(result);
            if (result.Succeeded)
                Console.WriteLine($"{result.Path}: {result.Caption} (log p {result.LogProbability.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)})");
            else
                BadInput.Report(result.Error!);
        }
        Console.Error.WriteLine($"progress: {results.Count} of {images.Count} images");
    }
    var failed = results.Count(r => !r.Succeeded);
    Console.Error.WriteLine($"captioned {images.Count - failed} of {images.Count} images with {captioner.Architecture}");
    if (settings.Report is { } page)
    {
        captioner.WriteReport(page, results);
        Console.Error.WriteLine($"report: {Path.GetFullPath(page)}");
    }
    if (failed == 0) return ExitCodes.Success;
    Console.Error.WriteLine($"error: {failed} of {images.Count} images could not be captioned");
    return ExitCodes.BadInput;
}
