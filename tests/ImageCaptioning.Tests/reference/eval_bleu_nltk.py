"""NLTK 3.8 BLEU on the corpora of a JSON file, for the parity tests of ImageCaptioning.Evaluation.Bleu.

Usage: eval_bleu_nltk.py CORPORA.json
Input: [{"hypotheses": [[token, ...], ...], "references": [[[token, ...], ...], ...]}, ...]
Output (stdout, JSON; floats are written with repr, so they round-trip exactly), one object per corpus:
  {"none": [BLEU-1..4], "method1": [BLEU-1..4], "matches": [...], "candidates": [...],
   "hyp_len": c, "ref_len": r, "bp": bp, "sentence_method1": [sentence BLEU-4 with method1 per item]}
BLEU-n uses the uniform weights 1/n over orders 1..n, as captioning evaluations do.
"""
import json
import sys
import warnings

from nltk.translate.bleu_score import (SmoothingFunction, brevity_penalty, closest_ref_length, corpus_bleu,
                                       modified_precision, sentence_bleu)

# method0 warns about every zero-match order; the warning text is not under test.
warnings.simplefilter("ignore")

WEIGHTS = [(1.0, 0.0, 0.0, 0.0), (1 / 2, 1 / 2, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3, 0.0), (1 / 4, 1 / 4, 1 / 4, 1 / 4)]
METHOD1 = SmoothingFunction().method1


def as_floats(scores):
    return [float(s) for s in scores]


def evaluate(corpus):
    hypotheses = corpus["hypotheses"]
    references = corpus["references"]
    matches, candidates = [0] * 4, [0] * 4
    hyp_len, ref_len = 0, 0
    for refs, hyp in zip(references, hypotheses):
        for n in range(1, 5):
            p = modified_precision(refs, hyp, n)
            matches[n - 1] += p.numerator
            candidates[n - 1] += p.denominator
        hyp_len += len(hyp)
        ref_len += closest_ref_length(refs, len(hyp))
    return {
        "none": as_floats(corpus_bleu(references, hypotheses, weights=WEIGHTS)),
        "method1": as_floats(corpus_bleu(references, hypotheses, weights=WEIGHTS, smoothing_function=METHOD1)),
        "matches": matches,
        "candidates": candidates,
        "hyp_len": hyp_len,
        "ref_len": ref_len,
        "bp": float(brevity_penalty(ref_len, hyp_len)),
        "sentence_method1": [float(sentence_bleu(refs, hyp, smoothing_function=METHOD1))
                             for refs, hyp in zip(references, hypotheses)],
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        corpora = json.load(f)
    json.dump([evaluate(corpus) for corpus in corpora], sys.stdout)


if __name__ == "__main__":
    main()
