"""Refit ``matching/data/reference_model.json``: the pseudo-count prior of the match model.

The reference keeps the EM sane on tiny batches (a 40-row trade-show list): its level
probabilities, fitted here on generated lead data with hard noise, weigh as ``pseudo_pairs``
(200) pairs in every fit. With thousands of pairs the data dominates.

    python benchmarks/fit_reference_model.py [--rows 50000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching_data import generated_leads  # noqa: E402
from matching.configuration import DedupSettings  # noqa: E402
from matching.engine import MATCH_COLUMNS, match_leads  # noqa: E402

TARGET = Path(__file__).resolve().parents[1] / "matching" / "data" / "reference_model.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args(argv)
    settings = DedupSettings()
    TARGET.write_text(json.dumps({"shares": [0.2, 0.4, 0.3, 0.1], "levels": {}}), encoding="utf-8")  # fit without a prior
    outcome = match_leads(generated_leads(args.rows, noise="hard", seed=101).select(MATCH_COLUMNS), settings)
    # keyed by comparison name; a comparison of another name (a custom config) falls back to its kind's first one
    levels: dict[str, list[list[float]]] = {}
    for c in settings.comparisons:
        fitted = [[round(p, 6) for p in cls[c.name]] for cls in outcome.model.levels]
        levels[c.name] = fitted
        levels.setdefault(c.kind, fitted)
    reference = {"fitted_on": f"{args.rows} generated leads, hard noise", "shares": outcome.model.shares, "levels": levels}
    TARGET.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} from {outcome.model.pairs_used} pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
