namespace ImageCaptioning.IO;

/// <summary>
/// Writes a folder so that readers see the old folder or the complete new one, never a mix of old and new files:
/// the files go into a temporary sibling folder, which then takes the folder's place. The folder counterpart of
/// <see cref="AtomicFile"/>.
/// </summary>
internal static class AtomicFolder
{
    /// <summary>Writes <paramref name="folder"/> with <paramref name="write"/>, which is given the (empty) staging folder to fill.</summary>
    /// <param name="folder">The folder to write.</param>
    /// <param name="marker">
    /// A file every folder of this kind holds: an existing folder is replaced only when it is empty or holds it, so a
    /// mistyped path never deletes something else.
    /// </param>
    /// <param name="kind">What such a folder is, for messages, e.g. "caption model bundle".</param>
    /// <param name="write">Writes the folder's files into the staging folder it is given.</param>
    /// <exception cref="IOException">The folder holds something else than a folder of this kind, or a write failed.</exception>
    public static void Write(string folder, string marker, string kind, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (File.Exists(target)) throw new IOException($"{target} is a file, not a {kind} folder");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !File.Exists(Path.Combine(target, marker)))
            throw new IOException($"{target} exists and is not a {kind} (no {marker}); refusing to replace it");

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(target);
        // Siblings, so both renames stay on one file system.
        var staging = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        var previous = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            if (Directory.Exists(target)) Directory.Move(target, previous);
            try
            {
                Directory.Move(staging, target);
            }
            catch
            {
                if (Directory.Exists(previous)) Directory.Move(previous, target);
                throw;
            }
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
        TryDelete(previous);
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
