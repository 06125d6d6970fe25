using System.Reflection;

namespace ImageCaptioning.IO;

/// <summary>The version of this library, recorded in the files it writes (captioner folders, checkpoints) to tell which release wrote them.</summary>
internal static class LibraryVersion
{
    public static string Current { get; } =
        typeof(LibraryVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(LibraryVersion).Assembly.GetName().Version?.ToString() ?? "unknown";
}
