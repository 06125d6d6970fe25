"""CIDEr-D written from its definition (Vedantam et al. 2015; coco-caption's CIDEr-D variant), independently of the
C# implementation, for ImageCaptioning.Evaluation.CiderD's tests. pycocoevalcap is not packaged for Debian, so this is
the reference; the hand-computed examples in CiderDTests check both.

Definition, for n = 1..4, with N images and the captions given as token lists:
  g_n(s)[w]  = tf(w, s) * (ln N - ln max(1, df(w)))   for each n-gram w of s, where df(w) is the number of images
               whose references (any of them) contain w
  sim_n(c,s) = sum_w min(g_n(c)[w], g_n(s)[w]) * g_n(s)[w] / (|g_n(c)| |g_n(s)|)   (no division when a norm is 0)
               * exp(-(l(c) - l(s))^2 / (2 sigma^2)),  sigma = 6, l = number of bigrams of the caption
  CIDEr-D(c, S) = 10 * (1/4) * sum_n (1/|S|) * sum_{s in S} sim_n(c, s)
  corpus score = mean over images.

Usage: eval_ciderd.py CORPORA.json  (same input as eval_bleu_nltk.py)
Output: [{"score": corpus score, "images": [per-image score, ...]}, ...]

Usage: eval_ciderd.py --fixed-df REWARDS.json, the self-critical reward: df and N come from the given references (one
list per image) alone, as self-critical.pytorch's CiderD(df='coco-train-idxs'), and each candidate is scored against
the references of its image, however many candidates name the same image.
Input: [{"references": [[ref tokens, ...] per image], "candidates": [tokens, ...], "images": [image index per candidate]}]
Output: [{"scores": [per-candidate score, ...]}, ...]
"""
import json
import math
import sys

N_MAX = 4
SIGMA = 6.0


def ngram_counts(tokens):
    counts = {}
    for n in range(1, N_MAX + 1):
        for i in range(len(tokens) - n + 1):
            gram = tuple(tokens[i:i + n])
            counts[gram] = counts.get(gram, 0) + 1
    return counts


def document_frequencies(references):
    df = {}
    for refs in references:
        grams = set()
        for ref in refs:
            grams.update(ngram_counts(ref))
        for gram in grams:
            df[gram] = df.get(gram, 0) + 1
    return df


def score_candidates(references, candidates, images):
    """Each candidate against references[its image], with df and N = len(references) from the references alone."""
    image_count = len(references)
    df = document_frequencies(references)

    def vector(tokens):
        g = {}
        norm_sq = [0.0] * N_MAX
        for gram, tf in ngram_counts(tokens).items():
            weight = tf * (math.log(image_count) - math.log(max(1, df.get(gram, 0))))
            g[gram] = weight
            norm_sq[len(gram) - 1] += weight * weight
        bigrams = max(0, len(tokens) - 1)
        return g, [math.sqrt(x) for x in norm_sq], bigrams

    scores = []
    for hyp, image in zip(candidates, images):
        refs = references[image]
        g_c, norm_c, len_c = vector(hyp)
        total = 0.0
        for ref in refs:
            g_s, norm_s, len_s = vector(ref)
            penalty = math.exp(-((len_c - len_s) ** 2) / (2 * SIGMA ** 2))
            for n in range(1, N_MAX + 1):
                dot = sum(min(w, g_s.get(gram, 0.0)) * g_s.get(gram, 0.0)
                          for gram, w in g_c.items() if len(gram) == n)
                if norm_c[n - 1] != 0 and norm_s[n - 1] != 0:
                    dot /= norm_c[n - 1] * norm_s[n - 1]
                total += dot * penalty / N_MAX / len(refs)
        scores.append(10.0 * total)
    return scores


def score_corpus(hypotheses, references):
    """Corpus mode: hypothesis i is the one candidate of image i."""
    scores = score_candidates(references, hypotheses, range(len(hypotheses)))
    return {"score": sum(scores) / len(scores), "images": scores}


def main():
    if sys.argv[1] == "--fixed-df":
        with open(sys.argv[2], encoding="utf-8") as f:
            cases = json.load(f)
        json.dump([{"scores": score_candidates(c["references"], c["candidates"], c["images"])} for c in cases], sys.stdout)
        return
    with open(sys.argv[1], encoding="utf-8") as f:
        corpora = json.load(f)
    json.dump([score_corpus(c["hypotheses"], c["references"]) for c in corpora], sys.stdout)


if __name__ == "__main__":
    main()
