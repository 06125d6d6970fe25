namespace ImageCaptioning.Text;

/// <summary>The outcome of cleaning a corpus.</summary>
/// <param name="Corpus">The cleaned captions; captions left empty, and images left without captions, are gone.</param>
/// <param name="CaptionsRead">Captions in the input corpus.</param>
/// <param name="EmptyCaptionsDropped">Captions with no word left after cleaning.</param>
/// <param name="ImagesDropped">Images all of whose captions were dropped.</param>
public sealed record CaptionCleaningResult(CaptionCorpus Corpus, int CaptionsRead, int EmptyCaptionsDropped, int ImagesDropped);
