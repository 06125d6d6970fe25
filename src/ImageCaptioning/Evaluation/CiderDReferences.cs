namespace ImageCaptioning.Evaluation;

/// <summary>
/// The reference side of CIDEr-D, prepared once: the document frequencies over a set of images' references and every
/// reference's tf-idf vector, against which candidate captions are then scored one by one. <see cref="CiderD"/>
/// scores a corpus's hypotheses against the frequencies of that corpus's own references; <see cref="CiderDReward"/>
/// scores sampled captions against those of the training references. Immutable, so one instance may score from many
/// threads, each with its own <see cref="Scratch"/>.
/// </summary>
/// <remarks>
/// Every distinct reference n-gram gets a dense id, and each reference keeps its weights as id-sorted runs of two flat
/// arrays: a candidate costs one hash lookup per distinct n-gram and a binary search per n-gram and reference, and
/// allocates nothing once its scratch has grown. Sums run in coco-caption's precook order (<see cref="NGram.Count"/>),
/// over the candidate's n-grams, so the scores are those of <c>ciderD_scorer.py</c> to the last bit it fixes.
/// </remarks>
internal sealed class CiderDReferences
{
    private readonly Dictionary<NGram, int> ngramIds;
    private readonly double[] inverseDocumentFrequency;
    private readonly double unseenInverseDocumentFrequency;
    private readonly int[] firstReference;
    private readonly int[] firstEntry;
    private readonly int[] entryIds;
    private readonly double[] entryWeights;
    private readonly double[] norms;
    private readonly int[] lengths;
    private readonly int maxOrder;
    private readonly double penaltyDenominator;

    /// <param name="references">For each image, its (at least one) references as token ids; kept, not copied.</param>
    /// <param name="options">The n-gram order and σ.</param>
    public CiderDReferences(int[][][] references, CiderDOptions options)
    {
        maxOrder = options.MaxOrder;
        penaltyDenominator = 2.0 * options.Sigma * options.Sigma;

        firstReference = new int[references.Length + 1];
        for (var image = 0; image < references.Length; image++)
            firstReference[image + 1] = firstReference[image] + references[image].Length;
        var referenceCount = firstReference[^1];

        // Pass 1: ids and document frequencies (images whose references contain the n-gram), and each reference's
        // number of distinct n-grams, which places its run in the flat arrays.
        ngramIds = [];
        var documentFrequency = new List<int>();
        var lastImage = new List<int>();
        firstEntry = new int[referenceCount + 1];
        var counts = new Dictionary<NGram, int>();
        for (var image = 0; image < references.Length; image++)
        {
            for (var r = 0; r < references[image].Length; r++)
            {
                counts.Clear();
                NGram.CountInto(references[image][r], maxOrder, counts);
                foreach (var ngram in counts.Keys)
                {
                    if (!ngramIds.TryGetValue(ngram, out var id))
                    {
                        id = ngramIds.Count;
                        ngramIds.Add(ngram, id);
                        documentFrequency.Add(0);
                        lastImage.Add(-1);
                    }
                    if (lastImage[id] != image)
                    {
                        lastImage[id] = image;
                        documentFrequency[id]++;
                    }
                }
                var reference = firstReference[image] + r;
                firstEntry[reference + 1] = firstEntry[reference] + counts.Count;
            }
        }

        var logImageCount = Math.Log(references.Length);
        inverseDocumentFrequency = new double[documentFrequency.Count];
        for (var id = 0; id < inverseDocumentFrequency.Length; id++)
            inverseDocumentFrequency[id] = logImageCount - Math.Log(documentFrequency[id]);
        // An n-gram absent from every reference counts as df 1, so ln(max(1, df)) is finite: its idf is ln N.
        unseenInverseDocumentFrequency = logImageCount - Math.Log(1);

        // Pass 2: each reference's weights, norms and length, its run then sorted by id for the binary searches.
        entryIds = new int[firstEntry[^1]];
        entryWeights = new double[entryIds.Length];
        norms = new double[referenceCount * maxOrder];
        lengths = new int[referenceCount];
        for (var image = 0; image < references.Length; image++)
        {
            for (var r = 0; r < references[image].Length; r++)
            {
                var reference = firstReference[image] + r;
                counts.Clear();
                NGram.CountInto(references[image][r], maxOrder, counts);
                var entry = firstEntry[reference];
                var referenceNorms = norms.AsSpan(reference * maxOrder, maxOrder);
                foreach (var (ngram, termFrequency) in counts)
                {
                    var id = ngramIds[ngram];
                    var weight = termFrequency * inverseDocumentFrequency[id];
                    entryIds[entry] = id;
                    entryWeights[entry++] = weight;
                    referenceNorms[ngram.Length - 1] += weight * weight;
                    if (ngram.Length == 2) lengths[reference] += termFrequency;
                }
                foreach (ref var norm in referenceNorms) norm = Math.Sqrt(norm);
                Array.Sort(entryIds, entryWeights, firstEntry[reference], counts.Count);
            }
        }
    }

    /// <summary>The number of images.</summary>
    public int ImageCount => firstReference.Length - 1;

    /// <summary>
    /// The CIDEr-D of <paramref name="candidate"/> against the references of <paramref name="image"/>: the clipped
    /// cosine of each order times the length penalty, averaged over the references and the orders, times 10.
    /// </summary>
    public double Score(int[] candidate, int image, Scratch scratch)
    {
        var counts = scratch.Counts;
        counts.Clear();
        NGram.CountInto(candidate, maxOrder, counts);
        scratch.Reserve(counts.Count);
        var ids = scratch.Ids;
        var weights = scratch.Weights;
        var orders = scratch.Orders;

        Span<double> candidateNorms = stackalloc double[maxOrder];
        candidateNorms.Clear();
        var length = 0;
        var distinct = 0;
        foreach (var (ngram, termFrequency) in counts)
        {
            var id = ngramIds.TryGetValue(ngram, out var known) ? known : -1;
            var weight = termFrequency * (id >= 0 ? inverseDocumentFrequency[id] : unseenInverseDocumentFrequency);
            ids[distinct] = id;
            weights[distinct] = weight;
            orders[distinct++] = ngram.Length - 1;
            candidateNorms[ngram.Length - 1] += weight * weight;
            if (ngram.Length == 2) length += termFrequency;
        }
        foreach (ref var norm in candidateNorms) norm = Math.Sqrt(norm);

        Span<double> similarities = stackalloc double[maxOrder];
        Span<double> dot = stackalloc double[maxOrder];
        similarities.Clear();
        var first = firstReference[image];
        var end = firstReference[image + 1];
        for (var reference = first; reference < end; reference++)
        {
            double delta = length - lengths[reference];
            var penalty = Math.Exp(-(delta * delta) / penaltyDenominator);
            dot.Clear();
            var runStart = firstEntry[reference];
            var runLength = firstEntry[reference + 1] - runStart;
            for (var k = 0; k < distinct; k++)
            {
                // An n-gram the reference lacks adds min(w, 0)·0 = 0: skipping it leaves the sum unchanged.
                if (ids[k] < 0) continue;
                var at = Array.BinarySearch(entryIds, runStart, runLength, ids[k]);
                if (at < 0) continue;
                var referenceWeight = entryWeights[at];
                // The clipping of CIDEr-D: repeating an n-gram beyond its count in the reference earns nothing.
                dot[orders[k]] += Math.Min(weights[k], referenceWeight) * referenceWeight;
            }
            var referenceNorms = norms.AsSpan(reference * maxOrder, maxOrder);
            for (var order = 0; order < maxOrder; order++)
            {
                var value = dot[order];
                if (candidateNorms[order] != 0 && referenceNorms[order] != 0)
                    value /= candidateNorms[order] * referenceNorms[order];
                similarities[order] += value * penalty;
            }
        }

        var sum = 0.0;
        foreach (var similarity in similarities) sum += similarity;
        return sum / maxOrder / (end - first) * 10.0;
    }

    /// <summary>The buffers one thread reuses from candidate to candidate.</summary>
    public sealed class Scratch
    {
        public Dictionary<NGram, int> Counts { get; } = [];

        public int[] Ids { get; private set; } = new int[64];

        public double[] Weights { get; private set; } = new double[64];

        public int[] Orders { get; private set; } = new int[64];

        public void Reserve(int count)
        {
            if (count <= Ids.Length) return;
            var size = Math.Max(count, 2 * Ids.Length);
            (Ids, Weights, Orders) = (new int[size], new double[size], new int[size]);
        }
    }
}
