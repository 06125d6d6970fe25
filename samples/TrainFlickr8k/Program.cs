// Trains a captioner on a real Flickr8k download: VGG16 (or ResNet-50) features from torchvision's pretrained weights,
// cached on disk so a second run extracts nothing; then the LSTM captioner; then BLEU-1..4 and CIDEr-D on the held-out
// test images, an HTML report, and the saved model that the CaptionImages sample loads.
// Nothing is downloaded: a missing dataset or weights file ends with exit code 2 and says what to get and where to put it.
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Samples;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using TrainFlickr8k;

var dataset = new Argument<string>("flickr8k",
    "The Flickr8k folder: Kaggle's layout (captions.txt + Images/) or the original release (Flickr8k_text/ + Flicker8k_Dataset/).");
var network = new Option<string>("--network", () => "vgg16", "The CNN that turns images into features: vgg16 (fc7, 4096-d, the recipe's) or resnet50 (2048-d).")
    .FromAmong("vgg16", "resnet50");
var weights = new Option<string?>("--weights", "The CNN's torchvision weights file (.pth or .safetensors). Default: the torch hub cache.");
var randomWeights = new Option<int?>("--random-weights",
    "Seeded random CNN weights instead of pretrained ones: checks the whole pipeline without the weights file (the captions will be poor).");
var output = new Option<string>("--output", () => "flickr8k-output", "Where the report, the model, checkpoints and (by default) the feature cache go.");
var featureCache = new Option<string?>("--feature-cache", "The feature cache folder. Default: <output>/features.");
var epochs = new Option<int>("--epochs", () => 10, "Passes over the training images.");
var batchSize = new Option<int>("--batch-size", () => 64, "Captions per training batch.");
var learningRate = new Option<double>("--learning-rate", () => 1e-3, "Adam's learning rate.");
var hidden = new Option<int>("--hidden", () => 256, "Embedding and LSTM size.");
var mode = new Option<string>("--mode", () => "full", "full: teacher forcing over whole captions; prefix: the recipe's one-word-per-sample mode.")
    .FromAmong("full", "prefix");
var minCount = new Option<int>("--min-count", () => 1, "Keep words seen at least this often in the training captions.");
var imageSize = new Option<int>("--image-size", () => 224, "Images are resized to this square size before the CNN (224: the recipe's).");
var patience = new Option<int?>("--patience", "Stop after this many epochs without a better validation loss.");
var beam = new Option<int>("--beam", () => 0, "Evaluate with beam search of this width; 0 decodes greedily.");
var reportImages = new Option<int>("--report-images", () => 60, "Images shown in the HTML report.");
var seed = new Option<int>("--seed", () => 1, "Seeds the split, the initialisation and the shuffling.");
var device = new Option<string?>("--device", "cpu or cuda. Default: cuda when available, else cpu.");
var maxPixels = new Option<long?>("--max-pixels",
    "Refuse images whose width x height exceeds this, before decoding them. Default: PIL's limit, lowered so the decode threads' images fit in half the memory.");

var command = new RootCommand("Trains an image captioner on Flickr8k and reports BLEU-1..4 and CIDEr-D on the held-out test images.")
{
    dataset, network, weights, randomWeights, output, featureCache, epochs, batchSize, learningRate, hidden, mode, minCount, imageSize,
    patience, beam, reportImages, seed, device, maxPixels,
};
command.AddValidator(result =>
{
    if (result.FindResultFor(weights) is not null && result.FindResultFor(randomWeights) is not null)
        result.ErrorMessage = "--weights and --random-weights exclude each other: pass one of them (or neither, for the torch hub cache)";
});
foreach (var (option, least) in new (Option, int)[]
         { (epochs, 1), (batchSize, 1), (hidden, 1), (minCount, 1), (imageSize, 32), (reportImages, 0), (beam, 0), (patience, 1) })
    OptionRules.Range(option, least);
OptionRules.Positive(learningRate);

maxPixels.AddValidator(r => r.ErrorMessage =
    r.Tokens is [var token] && long.TryParse(token.Value, out var value) && value < 1 ? "--max-pixels must be at least 1" : null);

command.SetHandler(context =>
{
    var parsed = context.ParseResult;
    var settings = new TrainingSettings(
        Path.GetFullPath(parsed.GetValueForArgument(dataset)),
        parsed.GetValueForOption(network) == "resnet50" ? FeatureNetwork.ResNet50 : FeatureNetwork.Vgg16,
        parsed.GetValueForOption(weights) is { } file ? Path.GetFullPath(file) : null,
        parsed.GetValueForOption(randomWeights),
        Path.GetFullPath(parsed.GetValueForOption(output)!),
        parsed.GetValueForOption(featureCache) is { } cache ? Path.GetFullPath(cache) : null,
        parsed.GetValueForOption(epochs), parsed.GetValueForOption(batchSize), parsed.GetValueForOption(learningRate),
        parsed.GetValueForOption(hidden), parsed.GetValueForOption(mode) == "prefix" ? LossMode.Prefix : LossMode.FullSequence,
        parsed.GetValueForOption(minCount), parsed.GetValueForOption(imageSize), parsed.GetValueForOption(patience),
        parsed.GetValueForOption(beam), parsed.GetValueForOption(reportImages), parsed.GetValueForOption(seed),
        parsed.GetValueForOption(device), parsed.GetValueForOption(maxPixels));
    context.ExitCode = Run(settings, context.GetCancellationToken());
});

return await BadInput.RunAsync(command, args, cancellable: true);

static int Run(TrainingSettings settings, CancellationToken cancellationToken)
{
    var problems = InputCheck.Flickr8k(settings.Dataset).Concat(InputCheck.Weights(settings)).ToList();
    Device? target = null;
    if (settings.Device is { } name)
    {
        try { target = new Device(name); }
        catch (Exception e) when (e is FormatException or ArgumentException) { problems.Add($"--device: {e.Message}"); }
        if (target is { type: not DeviceType.CPU } && !torch.cuda.is_available())
            problems.Add($"--device {name}: this libtorch has no usable CUDA device (reference a TorchSharp CUDA backend package instead of TorchSharp-cpu)");
    }
    if (problems.Count > 0)
    {
        foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}\n");
        return ExitCodes.BadInput;
    }

    using var loggerFactory = LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .SetMinimumLevel(LogLevel.Information));
    var featureWeights = settings.WeightsFile is { } path ? CnnWeights.FromFile(path)
        : settings.RandomWeightsSeed is { } weightSeed ? CnnWeights.Random(weightSeed)
        : CnnWeights.HubCache;
    Console.WriteLine($"Flickr8k: {settings.Dataset}");
    Console.WriteLine($"features: {settings.Network} at {settings.ImageSize}x{settings.ImageSize}, weights: {featureWeights}");

    try
    {
        var builder = CaptionPipeline.Create();
        builder = settings.Network == FeatureNetwork.ResNet50 ? builder.WithResNet50(featureWeights) : builder.WithVgg16(featureWeights);
        builder = builder
            .WithFeatureExtractorOptions(o => o with
            {
                Transform = o.Transform with { Resize = ImageResize.To(settings.ImageSize, settings.ImageSize) },
                Decoder = settings.MaxPixels is { } limit ? o.Decoder with { MaxPixelCount = limit } : o.Decoder,
            })
            .WithFeatureCache(settings.FeatureCache ?? Path.Combine(settings.Output, "features"))
            .WithFlickr8k(settings.Dataset)
            // Flickr8k's own proportions (6,000/1,000/1,000); used only when the official split lists are absent (Kaggle's layout).
            .WithSplit(trainFraction: 0.75, validationFraction: 0.125)
            .WithWordTokenizer(settings.MinCount)
            .WithModel(m => m with { EmbeddingSize = settings.Hidden, HiddenSize = settings.Hidden })
            .WithSeed(settings.Seed)
            .WithLogging(loggerFactory)
            .WithProgress(new ConsoleProgress(TimeSpan.FromSeconds(10)));
        if (target is { } chosen) builder = builder.WithDevice(chosen);

        using var captioner = builder.Train(o => o with
        {
            Epochs = settings.Epochs, BatchSize = settings.BatchSize, LearningRate = settings.LearningRate, Mode = settings.Mode,
            Patience = settings.Patience, CheckpointDirectory = Path.Combine(settings.Output, "checkpoints"),
        }, cancellationToken);

        var decoding = settings.Beam > 0 ? captioner.Bundle.Decoding with { Strategy = DecodingStrategy.Beam, BeamWidth = settings.Beam } : null;
        var result = captioner.Evaluate(SplitPart.Test, decoding);
        Console.WriteLine($"test split ({result.Images.Count} images, {(decoding is null ? "greedy" : $"beam {settings.Beam}")}): " +
            $"BLEU-1 {result.Bleu.Bleu1:F3}  BLEU-2 {result.Bleu.Bleu2:F3}  BLEU-3 {result.Bleu.Bleu3:F3}  BLEU-4 {result.Bleu.Bleu4:F3}  CIDEr-D {result.CiderD:F3}");
        foreach (var image in result.Images.Take(3))
            Console.WriteLine($"  {image.ImageId}: \"{image.Hypothesis}\"");

        var report = Path.Combine(settings.Output, "report.html");
        captioner.WriteReport(report, result, settings.ReportImages, "ImageCaptioning: Flickr8k test images");
        var model = Path.Combine(settings.Output, "model");
        captioner.Save(model);
        Console.WriteLine($"report: {report}");
        Console.WriteLine($"model:  {model}  (caption new images with: dotnet run --project samples/CaptionImages -- {model} <image or folder>)");
        return ExitCodes.Success;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine($"cancelled; the next run resumes from the checkpoints in {Path.Combine(settings.Output, "checkpoints")}");
        return ExitCodes.Cancelled;
    }
}
