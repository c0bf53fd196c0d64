"""`harmony` command line. Each stage module registers its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import sys

# module -> it defines register(subparsers); each registered parser sets func(args) -> int
COMMAND_MODULES = (
    "harmony_pipeline.synth.cli",
    "harmony_pipeline.runner",
    "harmony_pipeline.contracts.cli",
    "harmony_pipeline.quality.cli",
    "harmony_pipeline.privacy.cli",
    "harmony_pipeline.access.cli",
    "harmony_pipeline.bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harmony", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
