"""Translation: our default against copying the source, on number words and a parallel TSV.

On the generated number-words task (12,000 distinct numbers below 100,000,
digits -> English words; 9,600 train, 1,200 validation, 1,200 test numbers
never seen in training) and, with ``--tsv``, on any ``source<TAB>target``
file (split 80/10/10 with the task's fixed seed), in one run: ``train -P
task=translation`` with the defaults (LSTM encoder and decoder of 64
units, Luong attention, 10 epochs, greedy decoding) over ``--seeds``
seeds, the ``--variants`` asked for, and the copy-source baseline (the
source sentence predicted as its translation), all scored on the same test
split by exact match and corpus BLEU-4. Prints one JSON line: mean ± std
per model and data set (the baseline is deterministic: std 0) and wall
seconds. The floor is 0.90 exact match for the default on number words.

Real text offline: ``--gettext de`` benches the English -> German pairs of
the installed gettext catalogs (``bench/gettext_tsv.py``; the data set is
named ``en_de``, as its file ``python bench/gettext_tsv.py --language de
--output /tmp/en_de.tsv`` would be under ``--tsv``).

Usage: python bench/translation.py [--seeds 3] [--variants beam4,no_attention]
    [--tsv my_pairs.tsv | --gettext de] [--tsv-epochs 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from generation_runs import text_scores
from gettext_tsv import write_gettext_tsv
from runs import seeded_metrics

from baselines.translation import copy_source
from pipelines.config import TrainConfig
from pipelines.tasks.translation import load_parallel_data

VARIANTS = {
    "beam4": {"beam_width": 4},
    "no_attention": {"attention": "none"},
    "bahdanau": {"attention": "bahdanau"},
    "gru": {"cell": "gru"},
    "bidirectional": {"bidirectional": True},
}
METRICS = ("exact_match", "bleu")
FLOOR = 0.90


def dataset_figures(options: dict, variants: list[str], seeds: int) -> dict:
    """Split sizes, our default and variants, and copy-source on one data set's test split."""
    data = load_parallel_data(TrainConfig(task="translation", dataset=options.get("dataset", "")))
    references = [[target] for target in data.test.targets]
    copied = text_scores(copy_source(data.test.sources), references, {"bleu": 4})
    models = {"default": seeded_metrics("translation", options, seeds, METRICS)}
    for name in variants:
        models[name] = seeded_metrics("translation", {**options, **VARIANTS[name]}, seeds, METRICS)
    models["copy_source"] = copied
    sizes = {"train": len(data.train), "validation": len(data.validation), "test": len(data.test)}
    return {"pairs": sizes, "models": models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="", help=f"also run: {','.join(VARIANTS)}")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--tsv", type=Path, help="a source<TAB>target file, benched as well")
    text.add_argument("--gettext", metavar="LANGUAGE", help="bench the gettext en->LANGUAGE pairs")
    parser.add_argument("--tsv-epochs", type=int, default=0, help="epochs there (0: default)")
    args = parser.parse_args()
    variants = [name for name in args.variants.split(",") if name and name != "default"]
    for name in variants:
        if name not in VARIANTS:
            parser.error(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    if args.tsv is not None and not args.tsv.is_file():
        parser.error(f"--tsv {str(args.tsv)!r} is not a file")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="convseq-gettext-") as folder:
        tsv = args.tsv
        if args.gettext:
            tsv = Path(folder) / f"en_{args.gettext}.tsv"
            write_gettext_tsv(args.gettext, tsv)
        datasets = {"number_words": dataset_figures({}, variants, args.seeds)}
        if tsv is not None:
            options = {"dataset": str(tsv.resolve()), "epochs": args.tsv_epochs}
            datasets[tsv.stem] = dataset_figures(options, variants, args.seeds)
    default = datasets["number_words"]["models"]["default"]["exact_match"]["mean"]
    print(
        json.dumps(
            {
                "bench": "translation",
                "seeds": args.seeds,
                "metric": "exact match and corpus BLEU-4 on each test split",
                "datasets": datasets,
                "floor": FLOOR,
                "default_meets_floor": default >= FLOOR,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
