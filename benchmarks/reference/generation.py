"""The Python generators of the recipe, on the same Flickr8k-shaped corpus as GenerationBenchmarks.

prefix: the recipe's generator (issue text): per caption, per prefix, append the image's 4096-d row, the prefix
        right-padded to max_length, and the next word; yield every 64 samples (batches cross caption boundaries).
full:   the one-sample-per-caption variant: the image row, tokens[:-1] and tokens[1:] padded to max_length.
Prints JSON lines: case (matching the BenchmarkDotNet case), median seconds per batch, bytes per batch.
"""
import json
import numpy as np

from timing import median_seconds

IMAGES, PER_IMAGE, VOCAB, DIM, MAX_LENGTH, BATCH = 8091, 5, 8000, 4096, 31, 64
MASK = (1 << 64) - 1


def corpus():
    state = 12345
    def nxt():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return state >> 33
    descriptions = {}
    for image in range(IMAGES):
        caps = []
        for _ in range(PER_IMAGE):
            length = 8 + nxt() % 6 + nxt() % 6
            if nxt() % 24 == 0:
                length += nxt() % 12
            words = ["startseq"]
            for _ in range(length - 2):
                words.append("w%d" % ((nxt() % VOCAB) * (nxt() % VOCAB) // VOCAB))
            words.append("endseq")
            caps.append(" ".join(words))
        descriptions["img%05d.jpg" % image] = caps
    return descriptions


def tokenizer(descriptions):
    counts = {}
    for caps in descriptions.values():
        for c in caps:
            for w in c.split():
                counts[w] = counts.get(w, 0) + 1
    order = sorted(counts, key=lambda w: (-counts[w], w))
    return {w: i + 4 for i, w in enumerate(order)}


def prefix_generator(descriptions, features, word_index):
    x1, x2, y = [], [], []
    while True:
        for key, caps in descriptions.items():
            feature = features[key]
            for cap in caps:
                seq = [word_index.get(w, 1) for w in cap.split()][:MAX_LENGTH]
                for i in range(1, len(seq)):
                    padded = np.zeros(MAX_LENGTH, dtype=np.int64)
                    padded[:i] = seq[:i]
                    x1.append(feature)
                    x2.append(padded)
                    y.append(seq[i])
                    if len(y) == BATCH:
                        yield np.array(x1), np.array(x2), np.array(y, dtype=np.int64)
                        x1, x2, y = [], [], []


def full_generator(descriptions, features, word_index):
    x1, x2, y = [], [], []
    while True:
        for key, caps in descriptions.items():
            feature = features[key]
            for cap in caps:
                seq = [word_index.get(w, 1) for w in cap.split()][:MAX_LENGTH]
                inputs = np.zeros(MAX_LENGTH - 1, dtype=np.int64)
                targets = np.zeros(MAX_LENGTH - 1, dtype=np.int64)
                inputs[:len(seq) - 1] = seq[:-1]
                targets[:len(seq) - 1] = seq[1:]
                x1.append(feature)
                x2.append(inputs)
                y.append(targets)
                if len(y) == BATCH:
                    yield np.array(x1), np.array(x2), np.array(y)
                    x1, x2, y = [], [], []


def measure(generator, batches=256, repeats=15):
    seconds = median_seconds(lambda: next(generator), repeats, warmup=batches, inner=batches)
    return seconds, sum(a.nbytes for a in next(generator))


def main():
    descriptions = corpus()
    word_index = tokenizer(descriptions)
    values = (np.arange(DIM, dtype=np.float32) % 1000) * 0.001
    features = {key: values + i for i, key in enumerate(descriptions)}
    for workers in (0, 2):
        for mode, make in (("PrefixExpansion", prefix_generator), ("FullSequence", full_generator)):
            seconds, nbytes = measure(make(descriptions, features, word_index))
            print(json.dumps({"case": f"Batches(Mode={mode}&PrefetchWorkers={workers})", "median_s": seconds,
                              "bytes_per_batch": nbytes, "note": "Python has no prefetch: same generator"}))


if __name__ == "__main__":
    main()
