namespace ImageCaptioning.Evaluation;

/// <summary>
/// CIDEr-D as the reward of self-critical sequence training: built once from the training references, it scores any
/// number of candidate captions per image, each against its own image's references, with document frequencies taken
/// over all the training images, as self-critical.pytorch's <c>CiderD(df='coco-train-idxs')</c> does. Immutable and
/// thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// A candidate's score is exactly <see cref="CiderD"/>'s (×10, clipped, Gaussian length penalty) for an image of the
/// corpus made of the training references: the document frequencies count every training image, the candidate's own
/// included, and ln N is the number of training images, however many candidates a call scores. (In corpus mode
/// coco-caption would count each scored item as a document, so five samples of one image would count its references
/// five times; fixed frequencies keep a sample's reward independent of the rest of the batch.)
/// </para>
/// <para>
/// Captions are token ids, compared as exact integers: pass the model's ids (what ruotianluo's <c>-idxs</c> frequencies
/// use; for a word-level vocabulary they are the words) or ids of <see cref="EvaluationTokenizer"/> words, the same
/// kind for references and candidates, without start, end or padding ids unless both sides carry them.
/// </para>
/// </remarks>
public sealed class CiderDReward
{
    private readonly CiderDReferences references;

    /// <summary>Prepares the document frequencies and every reference's tf-idf vector.</summary>
    /// <param name="references">For each training image, its (at least one) reference captions as token ids; copied.</param>
    /// <param name="options">The n-gram order and σ; <see cref="CiderDOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">There are no images, or an image has a null or empty reference list or a null reference; the message names it.</exception>
    public CiderDReward(IReadOnlyList<IReadOnlyList<int[]>> references, CiderDOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0) EvaluationThrowHelper.ThrowEmptyCorpus("A CIDEr-D reward", nameof(references));
        var copies = new int[references.Count][][];
        for (var image = 0; image < copies.Length; image++)
        {
            var imageReferences = references[image];
            if (imageReferences is null)
                EvaluationThrowHelper.ThrowNullItem($"The reference list of image {image}", nameof(references));
            if (imageReferences.Count == 0)
                EvaluationThrowHelper.ThrowNoReferences($"image {image}", nameof(references));
            copies[image] = new int[imageReferences.Count][];
            for (var r = 0; r < copies[image].Length; r++)
            {
                var reference = imageReferences[r];
                if (reference is null)
                    EvaluationThrowHelper.ThrowNullItem($"Reference {r} of image {image}", nameof(references));
                // The n-gram table keeps windows over these arrays: a caller's later change must not reach it.
                copies[image][r] = (int[])reference.Clone();
            }
        }
        Options = options ?? CiderDOptions.Default;
        this.references = new CiderDReferences(copies, Options);
    }

    /// <summary>The number of training images; image indices run from 0 to one less.</summary>
    public int ImageCount => references.ImageCount;

    /// <summary>The n-gram order and σ the scores use.</summary>
    public CiderDOptions Options { get; }

    /// <summary>The CIDEr-D of each candidate against the references of its image.</summary>
    /// <param name="candidates">The captions to score, as token ids; an empty one scores 0.</param>
    /// <param name="imageIndexOfEachCandidate">For each candidate, the index of its image in the training references.</param>
    /// <returns>One score per candidate, in order.</returns>
    /// <exception cref="ArgumentException">The two lists differ in length, or a candidate is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An image index is not one of the training images; the message names the candidate.</exception>
    public double[] Score(IReadOnlyList<int[]> candidates, IReadOnlyList<int> imageIndexOfEachCandidate)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(imageIndexOfEachCandidate);
        if (candidates.Count != imageIndexOfEachCandidate.Count)
        {
            throw new ArgumentException(
                $"Every candidate needs the index of its image: got {candidates.Count} candidates but {imageIndexOfEachCandidate.Count} image indices.",
                nameof(imageIndexOfEachCandidate));
        }

        var scores = new double[candidates.Count];
        var scratch = new CiderDReferences.Scratch();
        for (var i = 0; i < scores.Length; i++)
        {
            var candidate = candidates[i];
            if (candidate is null) EvaluationThrowHelper.ThrowNullItem($"Candidate {i}", nameof(candidates));
            var image = imageIndexOfEachCandidate[i];
            if ((uint)image >= (uint)ImageCount)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(imageIndexOfEachCandidate), image,
                    $"Candidate {i} has image index {image}, but the reward holds the references of {ImageCount} images (indices 0 to {ImageCount - 1}).");
            }
            scores[i] = references.Score(candidate, image, scratch);
        }
        return scores;
    }
}
