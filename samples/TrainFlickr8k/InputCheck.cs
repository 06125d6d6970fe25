using ImageCaptioning.Pipeline;
using ImageCaptioning.Vision;

namespace TrainFlickr8k;

/// <summary>
/// Checks the dataset and weights before anything runs, and says for each missing piece what to download and
/// where to put it (the library never downloads).
/// </summary>
internal static class InputCheck
{
    private const string KaggleUrl = "https://www.kaggle.com/datasets/adityajn105/flickr8k";

    /// <summary>What is wrong with the Flickr8k folder, if anything.</summary>
    public static IEnumerable<string> Flickr8k(string root)
    {
        string? problem = null;
        if (!Directory.Exists(root))
            problem = $"the Flickr8k folder '{root}' does not exist.";
        else if (!File.Exists(Path.Combine(root, "captions.txt")) && !File.Exists(Path.Combine(root, "Flickr8k_text", "Flickr8k.token.txt"))
                 && !File.Exists(Path.Combine(root, "Flickr8k.token.txt")))
            problem = $"the Flickr8k folder '{root}' has no captions: neither captions.txt nor Flickr8k_text/Flickr8k.token.txt.";
        else if (!Directory.Exists(Path.Combine(root, "Images")) && !Directory.Exists(Path.Combine(root, "Flicker8k_Dataset")))
            problem = $"the Flickr8k folder '{root}' has no image folder: neither Images/ nor Flicker8k_Dataset/.";
        if (problem is null) yield break;

        var images = Path.Combine(root, "Images") + Path.DirectorySeparatorChar;
        var captions = Path.Combine(root, "captions.txt").PadRight(images.Length);
        images = images.PadRight(captions.Length);

        yield return problem + $"""

              Flickr8k is not downloaded by this sample. Get Kaggle's copy from
                {KaggleUrl}
              (or: kaggle datasets download -d adityajn105/flickr8k), unzip it, and pass the folder that holds
                {captions}  the image,caption CSV (40,455 captions)
                {images}  the 8,091 JPEG files (1000268201_693b08cb0e.jpg, ...)
              The original release works too: Flickr8k_text/ (Flickr8k.token.txt and the Flickr_8k.*Images.txt split lists)
              beside Flicker8k_Dataset/ (sic) with the images.
            """;
    }

    /// <summary>What is wrong with the CNN weights the settings ask for, if anything.</summary>
    public static IEnumerable<string> Weights(TrainingSettings settings)
    {
        if (settings.RandomWeightsSeed is not null) yield break;
        var (model, fileName, torchvisionCall) = settings.Network == FeatureNetwork.ResNet50
            ? ("ResNet-50", PretrainedWeights.ResNet50FileNames[0], "torchvision.models.resnet50(weights='IMAGENET1K_V1')")
            : ("VGG16", PretrainedWeights.Vgg16FileName, "torchvision.models.vgg16(weights='IMAGENET1K_V1')");
        var url = PretrainedWeights.DownloadBaseUrl + fileName;
        var hubDirectory = PretrainedWeights.HubCheckpointDirectory;

        if (settings.WeightsFile is { } file)
        {
            if (!File.Exists(file))
                yield return $"""
                    the {model} weights file '{file}' (--weights) does not exist.
                      torchvision's ImageNet weights are {url}
                      Download that file and pass its path to --weights, or put it in the torch hub cache
                        {Path.Combine(hubDirectory, fileName)}
                      and leave --weights out.
                    """;
            yield break;
        }

        var candidates = settings.Network == FeatureNetwork.ResNet50 ? PretrainedWeights.ResNet50FileNames : [PretrainedWeights.Vgg16FileName];
        if (candidates.Any(name => File.Exists(Path.Combine(hubDirectory, name)))) yield break;
        yield return $"""
            the pretrained {model} weights were not found in the torch hub cache: expected
                {Path.Combine(hubDirectory, fileName)}
              Nothing is downloaded. Any one of these fixes it:
                - download {url}
                  into {hubDirectory}{Path.DirectorySeparatorChar} (set TORCH_HOME to use another cache folder);
                - or run once: python3 -c "import torchvision; {torchvisionCall}" (PyTorch saves the file there);
                - or pass a weights file with --weights PATH;
                - or pass --random-weights SEED to check the pipeline end to end without it (the captions will be poor).
            """;
    }
}
