using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>A <see cref="BlipCheckpoint"/>'s parts through the library's (internal) architecture dispatch, which only this assembly sees.</summary>
internal static class BlipCheckpointParts
{
    /// <summary>The folder's parts through the library's architecture dispatch.</summary>
    public static PretrainedArchitectureParts Load(this BlipCheckpoint checkpoint)
    {
        var folder = PretrainedFolder.Open(checkpoint.Folder);
        return PretrainedArchitectures.Resolve(folder).Load(folder, torch.CPU);
    }
}
