using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

// COCO captions (captions_train2017.json): images[].id/file_name and annotations[].image_id/caption.
public static partial class CaptionReader
{
    /// <summary>
    /// Reads a COCO captions file. Images are identified by <c>file_name</c> and kept in the order of the
    /// <c>images</c> array (images without captions are left out); captions keep the order of <c>annotations</c>.
    /// Without an <c>images</c> array the numeric <c>image_id</c> is the id.
    /// </summary>
    public static CaptionCorpus ReadCoco(string path, CaptionReaderOptions? options = null, ILogger? logger = null)
    {
        var file = JsonCaptionFile.Open(path, options, logger);
        var images = new List<(long Id, string FileName, long Offset)>();
        var annotations = new List<(long ImageId, string Caption, long Offset)>();
        var hasImages = false;
        try
        {
            var reader = file.CreateReader();
            file.Expect(ref reader, JsonTokenType.StartObject, "a JSON object with 'images' and 'annotations'");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (name == "images")
                {
                    hasImages = true;
                    ReadObjects(file, ref reader, "images", (ref Utf8JsonReader r, long offset) => images.Add(ReadCocoImage(file, ref r, offset)));
                }
                else if (name == "annotations")
                {
                    ReadObjects(file, ref reader, "annotations", (ref Utf8JsonReader r, long offset) => annotations.Add(ReadCocoAnnotation(file, ref r, offset)));
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException exception)
        {
            throw file.SyntaxError(exception);
        }

        var fileNames = new Dictionary<long, string>();
        foreach (var (id, fileName, offset) in images)
            if (!fileNames.TryAdd(id, fileName))
                throw file.Error(offset, $"image id {id} appears twice in 'images'");

        var byImage = new Dictionary<long, List<string>>();
        foreach (var (imageId, caption, offset) in annotations)
        {
            if (hasImages && !fileNames.ContainsKey(imageId))
                throw file.Error(offset, $"annotation refers to image_id {imageId}, which is not in 'images'");
            if (!byImage.TryGetValue(imageId, out var list)) byImage.Add(imageId, list = []);
            list.Add(caption);
        }

        IEnumerable<(long Id, string Name)> order = hasImages
            ? images.Select(image => (image.Id, image.FileName))
            : byImage.Keys.Select(id => (id, id.ToString(CultureInfo.InvariantCulture)));
        return CaptionCorpus.Create(order
            .Where(image => byImage.ContainsKey(image.Id))
            .SelectMany(image => byImage[image.Id].Select(caption => new ImageCaption(image.Name, caption))));
    }

    private static (long Id, string FileName, long Offset) ReadCocoImage(JsonCaptionFile file, ref Utf8JsonReader reader, long offset)
    {
        long? id = null;
        string? fileName = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            switch (reader.GetString())
            {
                case "id": id = file.ReadInt64(ref reader, "id"); break;
                case "file_name": fileName = file.ReadString(ref reader, "file_name"); break;
                default: reader.Read(); reader.Skip(); break;
            }
        }
        if (id is null) throw file.Error(offset, "an image has no 'id'");
        if (string.IsNullOrEmpty(fileName)) throw file.Error(offset, $"image {id} has no 'file_name'");
        return (id.Value, fileName, offset);
    }

    private static (long ImageId, string Caption, long Offset) ReadCocoAnnotation(JsonCaptionFile file, ref Utf8JsonReader reader, long offset)
    {
        long? imageId = null;
        string? caption = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            switch (reader.GetString())
            {
                case "image_id": imageId = file.ReadInt64(ref reader, "image_id"); break;
                case "caption": caption = file.ReadString(ref reader, "caption"); break;
                default: reader.Read(); reader.Skip(); break;
            }
        }
        if (imageId is null) throw file.Error(offset, "an annotation has no 'image_id'");
        if (caption is null) throw file.Error(offset, $"the annotation of image {imageId} has no 'caption'");
        return (imageId.Value, caption, offset);
    }

    private delegate void ObjectHandler(ref Utf8JsonReader reader, long offset);

    /// <summary>Reads the array value of <paramref name="property"/>, handing each object (positioned on its start) to <paramref name="handler"/>.</summary>
    private static void ReadObjects(JsonCaptionFile file, ref Utf8JsonReader reader, string property, ObjectHandler handler)
    {
        file.Expect(ref reader, JsonTokenType.StartArray, $"an array for '{property}'");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                throw file.Error(reader.TokenStartIndex, $"each element of '{property}' must be an object");
            handler(ref reader, reader.TokenStartIndex);
        }
    }
}
