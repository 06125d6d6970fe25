// The main job on the embedded default: generate a synthetic captioned-image dataset (real JPEGs and a Flickr8k
// captions.txt), extract VGG16 features (pretrained weights from the torch hub cache when present, else seeded
// random weights), train, evaluate on held-out images, print BLEU-1..4 and CIDEr-D, and write an HTML report.
// A control run trains the same model with the image features zeroed, to show the model really uses the image.
using System.Diagnostics;
using System.Globalization;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

var output = Path.GetFullPath(Option("--output", "quickstart-output"));
var imageCount = int.Parse(Option("--images", "1000"), CultureInfo.InvariantCulture);
var epochs = int.Parse(Option("--epochs", "20"), CultureInfo.InvariantCulture);
var imageSize = int.Parse(Option("--image-size", "128"), CultureInfo.InvariantCulture);
var batchSize = int.Parse(Option("--batch", "64"), CultureInfo.InvariantCulture);
var learningRate = double.Parse(Option("--lr", "0.002"), CultureInfo.InvariantCulture);
var maxObjects = int.Parse(Option("--max-objects", "3"), CultureInfo.InvariantCulture);
var hidden = int.Parse(Option("--hidden", "256"), CultureInfo.InvariantCulture);
var skipControl = args.Contains("--no-control");
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
    .WithVgg16(FeatureWeights.HubCacheOrRandom(seed: 7))
    .WithFeatureExtractorOptions(o => o with { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(imageSize, imageSize) } })
    .WithFlickr8k(data.Directory)
    .WithFeatureCache(Path.Combine(output, "features"))
    .WithSplit(trainFraction: 0.8, validationFraction: 0.1)
    .WithModel(m => m with { EmbeddingSize = hidden, HiddenSize = hidden })
    .WithSeed(1)
    .WithLogging(loggerFactory)
    .Train(o => o with { Epochs = epochs, BatchSize = batchSize, LearningRate = learningRate, ZeroImageFeatures = zeroImageFeatures });

using var captioner = Train(zeroImageFeatures: false);
var result = captioner.Evaluate();
Print("held-out test images", result);
var report = Path.Combine(output, "report.html");
captioner.WriteReport(report, result, title: "ImageCaptioning QuickStart: held-out images");
captioner.Save(Path.Combine(output, "model"));
Console.WriteLine($"report: {report}");
Console.WriteLine($"model:  {Path.Combine(output, "model")}");
var sample = captioner.ImageIds(ImageCaptioning.Pipeline.SplitPart.Test)[0];
Console.WriteLine($"example: {sample}: \"{captioner.Caption(captioner.ImagePath(sample)!)}\"");

var exitCode = result.Bleu.Bleu4 >= 0.5 ? 0 : 1;
if (!skipControl)
{
    using var control = Train(zeroImageFeatures: true);
    var controlResult = control.Evaluate();
    Print("control: image features zeroed", controlResult);
    var gain = result.Bleu.Bleu4 - controlResult.Bleu.Bleu4;
    Console.WriteLine($"BLEU-4 gain from the image: {gain:+0.000;-0.000} (target >= 0.2)");
    if (gain < 0.2) exitCode = 1;
}
Console.WriteLine($"BLEU-4 {result.Bleu.Bleu4:F3} (target >= 0.5); finished in {clock.Elapsed.TotalSeconds:F0} s");
return exitCode;

void Print(string title, CaptionEvaluationResult r) => Console.WriteLine(
    $"{title}: BLEU-1 {r.Bleu.Bleu1:F3}  BLEU-2 {r.Bleu.Bleu2:F3}  BLEU-3 {r.Bleu.Bleu3:F3}  BLEU-4 {r.Bleu.Bleu4:F3}  CIDEr-D {r.CiderD:F3}  ({r.Images.Count} images)");

string Option(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
