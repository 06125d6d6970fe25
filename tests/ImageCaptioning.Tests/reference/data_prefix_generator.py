"""The Flickr8k recipe's data generator, run on a corpus a test wrote, printing batches as JSON lines.

usage: data_prefix_generator.py CAPTIONS_CSV FEATURES_JSON BATCH_SIZE MAX_LENGTH|none BATCHES

Cleaning and the generator are the recipe's (lower-case, non a-z to spaces, drop 1-letter words, startseq/endseq;
prefixes right-padded to max_length, batches of BATCH_SIZE across caption boundaries, `while True`), except that
captions.txt is read with the csv module rather than line.split(","). The word index follows the library's
documented rule: 0 pad, 1 unknown, 2 startseq, 3 endseq, then by descending count, ties in code-point order.
"""
import csv
import json
import re
import sys
from collections import Counter, OrderedDict


def clean(caption):
    caption = caption.lower()
    caption = re.sub(r"[^a-z]", " ", caption)
    words = [w for w in caption.split() if len(w) > 1]
    return "startseq " + " ".join(words) + " endseq"


def load_descriptions(path):
    descriptions = OrderedDict()
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        for image, caption in reader:
            descriptions.setdefault(image, []).append(clean(caption))
    return descriptions


def build_index(descriptions):
    counts = Counter(w for caps in descriptions.values() for c in caps for w in c.split() if w not in ("startseq", "endseq"))
    words = ["<pad>", "<unk>", "startseq", "endseq"] + sorted(counts, key=lambda w: (-counts[w], w))
    return {w: i for i, w in enumerate(words)}


def data_generator(descriptions, features, encode, max_length, batch_size):
    x_img, x_seq, y = [], [], []
    while True:
        for key, desc_list in descriptions.items():
            photo = features[key]
            for desc in desc_list:
                seq = encode(desc)[:max_length]
                for i in range(1, len(seq)):
                    in_seq = seq[:i] + [0] * (max_length - i)
                    x_img.append(photo)
                    x_seq.append(in_seq)
                    y.append(seq[i])
                    if len(y) == batch_size:
                        yield x_img, x_seq, y
                        x_img, x_seq, y = [], [], []


def main():
    captions_path, features_path, batch_size, max_length, batches = sys.argv[1:6]
    descriptions = load_descriptions(captions_path)
    index = build_index(descriptions)
    encode = lambda text: [index.get(w, 1) for w in text.split()]
    with open(features_path, encoding="utf-8") as f:
        features = json.load(f)
    if max_length == "none":
        max_length = max(len(encode(c)) for caps in descriptions.values() for c in caps)
    generator = data_generator(descriptions, features, encode, int(max_length), int(batch_size))
    for _ in range(int(batches)):
        x_img, x_seq, y = next(generator)
        print(json.dumps({"x_img": x_img, "x_seq": x_seq, "y": y}))


if __name__ == "__main__":
    main()
