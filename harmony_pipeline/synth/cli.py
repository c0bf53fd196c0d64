"""`harmony synth`: write synthetic deliveries of the ten built-in sources and their ground truth."""

from __future__ import annotations

import argparse
import sys
import time

from harmony_pipeline.settings import get_settings


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="synthesise deliveries of the ten built-in sources into $HARMONY_HOME/landing (truth in truth/)",
        description=__doc__,
    )
    parser.add_argument("--patients", type=int, default=1000, help="persons to generate (default 1000)")
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed: same seed, same bytes (default 42)"
    )
    parser.add_argument("--deliveries", type=int, default=1, help="dated deliveries per source (default 1)")
    parser.add_argument(
        "--defect-rate", type=float, default=0.02, help="share of rows with a defect (default 0.02)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harmony_pipeline.synth.generate import synthesise

    home = get_settings().home
    started = time.perf_counter()
    summary = synthesise(
        home, args.patients, args.seed, args.deliveries, args.defect_rate,
        progress=lambda message: print(f"  {message}", file=sys.stderr),
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    print(
        f"synthesised {summary['persons']} persons ({summary['source_patients']} source patients, "
        f"{summary['repeat_persons']} in two sources), {summary['deliveries_written']} deliveries, "
        f"{summary['defects']} defects in {elapsed:.1f}s -> {home / 'landing'} (truth: {home / 'truth'})"
    )
    return 0
