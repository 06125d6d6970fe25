using System.Text;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Text;

/// <summary>Normalises caption text by the rules of a <see cref="CaptionCleaningOptions"/>.</summary>
public sealed class CaptionCleaner
{
    /// <summary>Creates a cleaner; null options mean <see cref="CaptionCleaningOptions.Default"/>.</summary>
    public CaptionCleaner(CaptionCleaningOptions? options = null) => Options = options ?? CaptionCleaningOptions.Default;

    /// <summary>The rules applied.</summary>
    public CaptionCleaningOptions Options { get; }

    /// <summary>The cleaned caption with its marks, or null when no word survives the rules.</summary>
    /// <exception cref="ArgumentException">
    /// The caption holds a control character other than tab and line breaks (a NUL, say): as a separator it would cut
    /// a word in two and the recipe's rules would drop a piece, so the caption would change without a trace.
    /// </exception>
    public string? Clean(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var control = CaptionFileText.IndexOfControl(caption);
        if (control >= 0)
            throw new ArgumentException($"the caption holds the control character U+{(int)caption[control]:X4} at character {control + 1}", nameof(caption));
        var text = Options.Lowercase ? caption.ToLowerInvariant() : caption;
        var builder = new StringBuilder(text.Length + 16);
        if (Options.StartMark is { } start) builder.Append(start);
        var words = 0;
        var position = 0;
        while (position < text.Length)
        {
            while (position < text.Length && !IsWordCharacter(text[position])) position++;
            var wordStart = position;
            while (position < text.Length && IsWordCharacter(text[position])) position++;
            var length = position - wordStart;
            if (length == 0 || length < Options.MinWordLength) continue;
            if (builder.Length > 0) builder.Append(' ');
            builder.Append(text, wordStart, length);
            words++;
        }
        if (words == 0) return null;
        if (Options.EndMark is { } end) builder.Append(' ').Append(end);
        return builder.ToString();
    }

    /// <summary>Cleans every caption, dropping (and counting) those left empty; counts go to <paramref name="logger"/>.</summary>
    public CaptionCleaningResult Clean(CaptionCorpus corpus, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var kept = new List<ImageCaption>(corpus.CaptionCount);
        var dropped = 0;
        foreach (var (imageId, caption) in corpus.Entries())
        {
            string? cleaned;
            try
            {
                cleaned = Clean(caption);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"image '{imageId}': {e.Message}", nameof(corpus), e);
            }
            if (cleaned is not null) kept.Add(new ImageCaption(imageId, cleaned));
            else dropped++;
        }
        var cleanedCorpus = CaptionCorpus.Create(kept);
        var result = new CaptionCleaningResult(cleanedCorpus, corpus.CaptionCount, dropped, corpus.ImageCount - cleanedCorpus.ImageCount);
        if (logger is not null)
        {
            logger.LogInformation("Cleaned {Captions} captions of {Images} images", result.CaptionsRead, corpus.ImageCount);
            if (dropped > 0)
                logger.LogWarning("Dropped {Dropped} captions empty after cleaning ({ImagesDropped} images lost all their captions)", dropped, result.ImagesDropped);
        }
        return result;
    }

    // Letters-only mode treats every other character as a separator: the recipe's "replace with a space, then split".
    private bool IsWordCharacter(char c) => !Options.LettersOnly
        ? !char.IsWhiteSpace(c)
        : c is >= 'a' and <= 'z' || (!Options.Lowercase && c is >= 'A' and <= 'Z');
}
