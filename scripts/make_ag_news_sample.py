"""Draw the embedded AG News demo sample from the official AG News test split.

Run from the repository root with ../shared beside it:
    python scripts/make_ag_news_sample.py ../shared/data/ag_news/test.csv

Writes tfx_textzoo/data/ag_news_sample_{train,test}.csv (same format as the source:
`class,title,description`, classes 1-4, no header): a stratified, seeded draw of
disjoint rows, 1,000 + 250 per class.
"""

import csv
import hashlib
import random
import sys
from pathlib import Path

PER_CLASS = {"train": 1000, "test": 250}
SEED = 20151207
EXPECTED_MD5 = "d52ea96a97a2d943681189a97654912d"


def main(source: str) -> None:
    """Check the source file, draw the sample and write both csv files."""
    data = Path(source).read_bytes()
    md5 = hashlib.md5(data).hexdigest()
    if md5 != EXPECTED_MD5:
        sys.exit(f"{source}: md5 {md5} is not the official test.csv ({EXPECTED_MD5})")
    rows = list(csv.reader(data.decode("utf-8").splitlines()))
    by_class: dict[str, list[list[str]]] = {}
    for row in rows:
        by_class.setdefault(row[0], []).append(row)
    rng = random.Random(SEED)
    out = {"train": [], "test": []}
    for cls in sorted(by_class):
        picked = rng.sample(by_class[cls], PER_CLASS["train"] + PER_CLASS["test"])
        out["train"] += picked[: PER_CLASS["train"]]
        out["test"] += picked[PER_CLASS["train"] :]
    target = Path(__file__).resolve().parents[1] / "tfx_textzoo" / "data"
    for split, split_rows in out.items():
        rng.shuffle(split_rows)
        with open(target / f"ag_news_sample_{split}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(split_rows)
        print(split, len(split_rows))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ag_news/test.csv")
