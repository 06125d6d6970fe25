namespace ImageCaptioning.Text;

/// <summary>One caption of one image, as read from a caption file.</summary>
/// <param name="ImageId">The image's id (its file name in Flickr8k and COCO).</param>
/// <param name="Caption">The caption text.</param>
public readonly record struct ImageCaption(string ImageId, string Caption);
