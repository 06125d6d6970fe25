using ImageCaptioning.Text;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// A generated dataset on disk in the Flickr8k (Kaggle) layout: <see cref="ImagesDirectory"/> holds the JPEG files
/// and <see cref="CaptionsPath"/> the <c>image,caption</c> CSV, so it reads like the real one (for example with
/// <see cref="CaptionReader.ReadFlickr8kCsv"/>). Immutable.
/// </summary>
public sealed class SyntheticDataset
{
    private readonly Dictionary<string, SyntheticImage> byId;

    internal SyntheticDataset(string directory, SyntheticDatasetOptions options, IReadOnlyList<SyntheticImage> images, bool reusedExisting)
    {
        Directory = directory;
        ImagesDirectory = Path.Combine(directory, SyntheticCaptionedImages.ImagesFolderName);
        CaptionsPath = Path.Combine(directory, SyntheticCaptionedImages.CaptionsFileName);
        Options = options;
        Images = images;
        ReusedExisting = reusedExisting;
        byId = images.ToDictionary(image => image.ImageId, StringComparer.Ordinal);
    }

    /// <summary>The dataset's root folder (full path), the equivalent of a Flickr8k download's root.</summary>
    public string Directory { get; }

    /// <summary>The folder of image files, <c>Images/</c> under <see cref="Directory"/>.</summary>
    public string ImagesDirectory { get; }

    /// <summary>The caption file, <c>captions.txt</c> under <see cref="Directory"/>.</summary>
    public string CaptionsPath { get; }

    /// <summary>The options the dataset was generated with.</summary>
    public SyntheticDatasetOptions Options { get; }

    /// <summary>Every image with its scene and captions, in file order.</summary>
    public IReadOnlyList<SyntheticImage> Images { get; }

    /// <summary>Whether a complete dataset of the same options was already there, so nothing was written.</summary>
    public bool ReusedExisting { get; }

    /// <summary>The image <paramref name="imageId"/>.</summary>
    /// <exception cref="KeyNotFoundException">No image has that id.</exception>
    public SyntheticImage this[string imageId] =>
        byId.TryGetValue(imageId, out var image) ? image : throw new KeyNotFoundException($"image '{imageId}' is not in the synthetic dataset at '{Directory}'");

    /// <summary>The full path of the file of image <paramref name="imageId"/>.</summary>
    /// <exception cref="KeyNotFoundException">No image has that id.</exception>
    public string GetImagePath(string imageId) => Path.Combine(ImagesDirectory, this[imageId].ImageId);

    /// <summary>The captions as a corpus, exactly what reading <see cref="CaptionsPath"/> gives.</summary>
    public CaptionCorpus ToCaptionCorpus() =>
        CaptionCorpus.Create(Images.SelectMany(image => image.Captions.Select(caption => new ImageCaption(image.ImageId, caption))));

    /// <inheritdoc/>
    public override string ToString() => $"SyntheticDataset of {Images.Count} images at '{Directory}'";
}
