// The main job on the embedded default: generate a synthetic captioned-image dataset (real JPEGs and a Flickr8k
// captions.txt), extract VGG16 features (pretrained weights from the torch hub cache when present, else seeded
// random weights), train, evaluate on held-out images, print BLEU-1..4 and CIDEr-D, and write an HTML report.
// A control run trains the same model with the image features zeroed, to show the model really uses the image.
// Both are also scored by the scenes their captions describe, against the shapes the generator drew.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Samples;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

const double TrainFraction = 0.8, ValidationFraction = 0.1;
// Fewer images leave a part of the 80/10/10 split empty, which would end the run only after training, at the evaluation.
var fewestImages = CaptionSplits.MinimumImageCount(TrainFraction, ValidationFraction);

var output = new Option<string>("--output", () => "quickstart-output", "Where the data, features, report and model go.");
var images = new Option<int>("--images", () => 1000, $"Synthetic images to generate ({fewestImages} at least: 80% train, 10% validation, 10% test).");
var epochs = new Option<int>("--epochs", () => 20, "Passes over the training images.");
var imageSize = new Option<int>("--image-size", () => 128, "Width and height of the images in pixels (32 to 2048).");
var batch = new Option<int>("--batch", () => 64, "Captions per training batch.");
var learningRate = new Option<double>("--lr", () => 0.002, "Adam's learning rate.");
var maxObjects = new Option<int>("--max-objects", () => 3, "The most shapes in an image (1 to 9).");
var hidden = new Option<int>("--hidden", () => 256, "Embedding and LSTM size.");
var noControl = new Option<bool>("--no-control", "Skip the control run with the image features zeroed.");

var command = new RootCommand("The demo: synthetic captioned images, VGG16 features, training, BLEU-1..4, CIDEr-D and scene accuracy on held-out images, an HTML report.")
{
    output, images, epochs, imageSize, batch, learningRate, maxObjects, hidden, noControl,
};
images.AddValidator(r =>
{
    if (r.Tokens is not [var token] || !int.TryParse(token.Value, CultureInfo.InvariantCulture, out var count) || count >= fewestImages) return;
    var (train, validation, test) = CaptionSplits.PartSizes(count, TrainFraction, ValidationFraction);
    r.ErrorMessage = $"--images {count} is too few: the 80/10/10 % split needs at least {fewestImages} images for the train, validation and test " +
        $"splits to get one each ({count} give {train} train, {validation} validation, {test} test)";
});
OptionRules.Range(images, 1, 1_000_000);
OptionRules.Range(imageSize, 32, 2048);
OptionRules.Range(maxObjects, 1, 9);
foreach (var option in new Option[] { epochs, batch, hidden }) OptionRules.Range(option, 1);
OptionRules.Positive(learningRate);
command.SetHandler(context =>
{
    var parsed = context.ParseResult;
    context.ExitCode = Run(Path.GetFullPath(parsed.GetValueForOption(output)!), parsed.GetValueForOption(images), parsed.GetValueForOption(epochs),
        parsed.GetValueForOption(imageSize), parsed.GetValueForOption(batch), parsed.GetValueForOption(learningRate),
        parsed.GetValueForOption(maxObjects), parsed.GetValueForOption(hidden), parsed.GetValueForOption(noControl));
});
return await BadInput.RunAsync(command, args);

static int Run(string output, int imageCount, int epochs, int imageSize, int batchSize, double learningRate, int maxObjects, int hidden, bool skipControl)
{
    var clock = Stopwatch.StartNew();

    using var loggerFactory = LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("ImageCaptioning.Training", LogLevel.Warning));

    // 1. Data: JPEG files and captions.txt in the Flickr8k layout, so the real reading path runs.
    var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = imageCount, ImageSize = imageSize, MaxObjectCount = maxObjects, Seed = 1 })
        .Generate(Path.Combine(output, "data"), loggerFactory.CreateLogger("QuickStart"));
    Console.WriteLine($"dataset: {data.Images.Count} images in {data.Directory} ({clock.Elapsed.TotalSeconds:F0} s)");

    // 2-3. Features, training and evaluation through the pipeline.
    Captioner Train(bool zeroImageFeatures) => CaptionPipeline.Create()
        .WithVgg16(CnnWeights.HubCacheOrRandom(seed: 7))
        .WithFeatureExtractorOptions(o => o with { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(imageSize, imageSize) } })
        .WithFlickr8k(data.Directory)
        .WithFeatureCache(Path.Combine(output, "features"))
        .WithSplit(TrainFraction, ValidationFraction)
        .WithModel(m => m with { EmbeddingSize = hidden, HiddenSize = hidden })
        .WithSeed(1)
        .WithLogging(loggerFactory)
        .Train(o => o with { Epochs = epochs, BatchSize = batchSize, LearningRate = learningRate, ZeroImageFeatures = zeroImageFeatures });

    using var captioner = Train(zeroImageFeatures: false);
    var result = captioner.Evaluate();
    Print("held-out test images", result);
    var scene = SceneAccuracy.Evaluate(result.Images.Select(i => (i.ImageId, i.Hypothesis)), data);
    var report = Path.Combine(output, "report.html");
    captioner.WriteReport(report, result, title: "ImageCaptioning QuickStart: held-out images");
    captioner.Save(Path.Combine(output, "model"));
    Console.WriteLine($"report: {report}");
    Console.WriteLine($"model:  {Path.Combine(output, "model")}");
    var sample = captioner.ImageIds(ImageCaptioning.Pipeline.SplitPart.Test)[0];
    Console.WriteLine($"example: {sample}: \"{captioner.Caption(captioner.ImagePath(sample)!)}\"");

    var exitCode = result.Bleu.Bleu4 >= 0.5 ? 0 : 1;
    var sceneLine = $"scene accuracy of the held-out test images: model: {scene}";
    if (!skipControl)
    {
        using var control = Train(zeroImageFeatures: true);
        var controlResult = control.Evaluate();
        Print("control: image features zeroed", controlResult);
        var gain = result.Bleu.Bleu4 - controlResult.Bleu.Bleu4;
        Console.WriteLine($"BLEU-4 gain from the image: {gain:+0.000;-0.000} (target >= 0.2)");
        if (gain < 0.2) exitCode = 1;
        sceneLine += $" | control: {SceneAccuracy.Evaluate(controlResult.Images.Select(i => (i.ImageId, i.Hypothesis)), data)}";
    }
    Console.WriteLine(sceneLine);
    Console.WriteLine($"BLEU-4 {result.Bleu.Bleu4:F3} (target >= 0.5); finished in {clock.Elapsed.TotalSeconds:F0} s");
    return exitCode;

    static void Print(string title, CaptionEvaluationResult r) => Console.WriteLine(
        $"{title}: BLEU-1 {r.Bleu.Bleu1:F3}  BLEU-2 {r.Bleu.Bleu2:F3}  BLEU-3 {r.Bleu.Bleu3:F3}  BLEU-4 {r.Bleu.Bleu4:F3}  CIDEr-D {r.CiderD:F3}  ({r.Images.Count} images)");
}
