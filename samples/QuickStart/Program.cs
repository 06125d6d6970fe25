// The main job on the embedded default: generate a synthetic captioned-image dataset (real JPEGs and a Flickr8k
// captions.txt), then train and compare three captioners on the same split, scored on held-out images by BLEU-1..4,
// CIDEr-D and by the scenes their captions describe against the shapes the generator drew:
//   1. the main model: a small CNN trained from scratch inside a soft-attention (Show, Attend and Tell) captioner;
//   2. the classic recipe: VGG16 fc7 features (pretrained weights from the torch hub cache when present, else seeded
//      random ones) and the init-inject LSTM;
//   3. a control: the recipe model with its image features zeroed, which shows what the captions' words alone give.
// The main model's HTML report shows each word's attention over the image.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ImageCaptioning.Data;
using ImageCaptioning.Encoders;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Samples;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

const double TrainFraction = 0.8, ValidationFraction = 0.1;
// Fewer images leave a part of the 80/10/10 split empty, which would end the run only after training, at the evaluation.
var fewestImages = CaptionSplits.MinimumImageCount(TrainFraction, ValidationFraction);

var output = new Option<string>("--output", () => "quickstart-output", "Where the data, features, report and model go.");
var images = new Option<int>("--images", () => Demo.Images, $"Synthetic images to generate ({fewestImages} at least: 80% train, 10% validation, 10% test).");
var epochs = new Option<int>("--epochs", () => Demo.Epochs, "Passes over the training images for the main model.");
var recipeEpochs = new Option<int>("--recipe-epochs", () => Demo.RecipeEpochs, "Passes over the training images for the recipe model and the control.");
var imageSize = new Option<int>("--image-size", () => Demo.ImageSize, "Width and height of the generated images in pixels (32 to 2048).");
var encoderSize = new Option<int>("--encoder-size", () => Demo.EncoderSize, "Side the main model's CNN reads the images at (a multiple of 16).");
var batch = new Option<int>("--batch", () => 64, "Captions per training batch.");
var learningRate = new Option<double>("--lr", () => Demo.LearningRate, "Adam's learning rate for the main model.");
var maxObjects = new Option<int>("--max-objects", () => 3, "The most shapes in an image (1 to 9).");
var captions = new Option<int>("--captions", () => Demo.CaptionsPerImage, $"Captions per image (1 to {SyntheticDatasetOptions.MaxCaptionsPerImage}), each a different phrasing; the first is the canonical one.");
var noComparison = new Option<bool>("--no-comparison", "Train only the main model: skip the recipe model and the control.");

var command = new RootCommand("The demo: synthetic captioned images; a CNN + soft-attention captioner against the VGG16 + LSTM recipe and a zero-feature control; BLEU-1..4, CIDEr-D and scene accuracy on held-out images; an HTML report with attention heat-maps.")
{
    output, images, epochs, recipeEpochs, imageSize, encoderSize, batch, learningRate, maxObjects, captions, noComparison,
};
images.AddValidator(r =>
{
    if (r.Tokens is not [var token] || !int.TryParse(token.Value, CultureInfo.InvariantCulture, out var count) || count >= fewestImages) return;
    var (train, validation, test) = CaptionSplits.PartSizes(count, TrainFraction, ValidationFraction);
    r.ErrorMessage = $"--images {count} is too few: the 80/10/10 % split needs at least {fewestImages} images for the train, validation and test " +
        $"splits to get one each ({count} give {train} train, {validation} validation, {test} test)";
});
encoderSize.AddValidator(r =>
{
    if (r.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var size) && (size < 16 || size % 16 != 0))
        r.ErrorMessage = $"--encoder-size {size} must be a multiple of 16 (the CNN halves it four times), at least 16";
});
OptionRules.Range(images, 1, 1_000_000);
OptionRules.Range(imageSize, 32, 2048);
OptionRules.Range(maxObjects, 1, 9);
OptionRules.Range(captions, 1, SyntheticDatasetOptions.MaxCaptionsPerImage);
foreach (var option in new Option[] { epochs, recipeEpochs, batch }) OptionRules.Range(option, 1);
OptionRules.Positive(learningRate);
command.SetHandler(context =>
{
    var parsed = context.ParseResult;
    var settings = new DemoSettings(Path.GetFullPath(parsed.GetValueForOption(output)!), parsed.GetValueForOption(images), parsed.GetValueForOption(epochs),
        parsed.GetValueForOption(recipeEpochs), parsed.GetValueForOption(imageSize), parsed.GetValueForOption(encoderSize), parsed.GetValueForOption(batch),
        parsed.GetValueForOption(learningRate), parsed.GetValueForOption(maxObjects), parsed.GetValueForOption(captions), !parsed.GetValueForOption(noComparison));
    context.ExitCode = Run(settings);
});
return await BadInput.RunAsync(command, args);

static int Run(DemoSettings s)
{
    var clock = Stopwatch.StartNew();

    using var loggerFactory = LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("ImageCaptioning.Training", LogLevel.Warning));

    // 1. Data: JPEG files and captions.txt in the Flickr8k layout, so the real reading path runs.
    var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = s.Images, ImageSize = s.ImageSize, MaxObjectCount = s.MaxObjects, CaptionsPerImage = s.Captions, Seed = 1 })
        .Generate(Path.Combine(s.Output, "data"), loggerFactory.CreateLogger("QuickStart"));
    Console.WriteLine($"dataset: {data.Images.Count} images in {data.Directory} ({clock.Elapsed.TotalSeconds:F0} s)");

    CaptionPipelineBuilder Pipeline() => CaptionPipeline.Create()
        .WithFlickr8k(data.Directory)
        .WithFeatureCache(Path.Combine(s.Output, "features"))
        .WithSplit(TrainFraction, ValidationFraction)
        .WithSeed(1)
        .WithLogging(loggerFactory);

    // 2. The main model: the CNN sees the pixels, so colours and shapes reach the captions.
    var started = clock.Elapsed;
    using var captioner = Pipeline()
        .WithEncoder(Demo.Encoder(s.EncoderSize))
        .WithModel(Demo.Decoder)
        .Train(o => o with { Epochs = s.Epochs, BatchSize = s.Batch, LearningRate = s.LearningRate, LearningRateDecay = Demo.LearningRateDecay, LearningRateDecayInterval = Demo.LearningRateDecayInterval });
    var result = captioner.Evaluate();
    var scene = SceneAccuracy.Evaluate(result.Images.Select(i => (i.ImageId, i.Hypothesis)), data);
    Print("main model (CNN + soft attention)", result, scene, clock.Elapsed - started);
    var report = Path.Combine(s.Output, "report.html");
    captioner.WriteReport(report, result, title: "ImageCaptioning QuickStart: held-out images, CNN + soft attention");
    captioner.Save(Path.Combine(s.Output, "model"));
    var sample = captioner.ImageIds(SplitPart.Test)[0];
    Console.WriteLine($"example: {sample}: \"{captioner.Caption(captioner.ImagePath(sample)!)}\"");

    var exitCode = 0;
    if (scene.ObjectPrecision < Demo.ObjectTarget || scene.ObjectRecall < Demo.ObjectTarget)
    {
        Console.WriteLine($"objects right: precision {scene.ObjectPrecision:P1}, recall {scene.ObjectRecall:P1}: below the {Demo.ObjectTarget:P0} target");
        exitCode = 1;
    }

    // 3. The comparisons: the recipe on VGG16 fc7, and the same with the image zeroed.
    if (s.Comparison)
    {
        Captioner Recipe(bool zeroImageFeatures) => Pipeline()
            .WithVgg16(CnnWeights.HubCacheOrRandom(seed: 7))
            // 32×32 keeps the recipe's extraction within the demo's time; its random-weight fc7 carries little of the image at any size.
            .WithFeatureExtractorOptions(o => o with { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(Demo.RecipeImageSize, Demo.RecipeImageSize) } })
            .WithModel(m => m with { EmbeddingSize = 256, HiddenSize = 256 })
            .Train(o => o with { Epochs = s.RecipeEpochs, BatchSize = s.Batch, LearningRate = 0.002, ZeroImageFeatures = zeroImageFeatures });
        foreach (var (title, zero) in new[] { ("recipe (VGG16 fc7 + init-inject LSTM)", false), ("control (recipe, image features zeroed)", true) })
        {
            started = clock.Elapsed;
            using var comparison = Recipe(zero);
            var comparisonResult = comparison.Evaluate();
            Print(title, comparisonResult, SceneAccuracy.Evaluate(comparisonResult.Images.Select(i => (i.ImageId, i.Hypothesis)), data), clock.Elapsed - started);
            if (!zero) continue;
            var gain = result.Bleu.Bleu4 - comparisonResult.Bleu.Bleu4;
            Console.WriteLine($"BLEU-4 gain of the main model over the control: {gain:+0.000;-0.000} (target >= {Demo.GainTarget})");
            if (gain < Demo.GainTarget) exitCode = 1;
        }
    }
    Console.WriteLine($"report: {report}");
    Console.WriteLine($"model:  {Path.Combine(s.Output, "model")}");
    Console.WriteLine($"main model: objects right {scene.ObjectRecall:P1} of those drawn, {scene.ObjectPrecision:P1} of those described (target >= {Demo.ObjectTarget:P0}); finished in {clock.Elapsed.TotalSeconds:F0} s");
    return exitCode;

    static void Print(string title, CaptionEvaluationResult r, SceneAccuracyResult scene, TimeSpan took) => Console.WriteLine(
        $"{title}: BLEU-1 {r.Bleu.Bleu1:F3}  BLEU-2 {r.Bleu.Bleu2:F3}  BLEU-3 {r.Bleu.Bleu3:F3}  BLEU-4 {r.Bleu.Bleu4:F3}  CIDEr-D {r.CiderD:F3}  ({r.Images.Count} images, {took.TotalSeconds:F0} s)\n  scenes: {scene}");
}

/// <summary>What the command line chose.</summary>
internal sealed record DemoSettings(string Output, int Images, int Epochs, int RecipeEpochs, int ImageSize, int EncoderSize, int Batch,
    double LearningRate, int MaxObjects, int Captions, bool Comparison);

/// <summary>The demo's defaults and targets, in one place.</summary>
internal static class Demo
{
    public const int Images = 3000, ImageSize = 128, EncoderSize = 48, Epochs = 4, LearningRateDecayInterval = 3, RecipeEpochs = 2, RecipeImageSize = 32, CaptionsPerImage = 3;
    public const double LearningRate = 0.002, LearningRateDecay = 0.1, ObjectTarget = 0.9, GainTarget = 0.2;

    public static SmallCnnEncoderOptions Encoder(int size) => new() { InputSize = size, Widths = [32, 64, 64, 128], Downsampling = SmallCnnDownsampling.MaxPool };

    public static SoftAttentionOptions Decoder { get; } = new() { EmbeddingSize = 32, HiddenSize = 128, AttentionSize = 64, AttentionRegularization = 0 };
}
