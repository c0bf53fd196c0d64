"""`harmony pseudonym`: the trusted-party look-up of one source patient's pseudonym.

A data provider, on an approved request, can trace a published finding back to its own patient:
the tool prints the patient_key the pipeline gave (source, source patient id). It needs the network
key, so only the trusted party who holds HARMONY_PSEUDONYM_KEY can run it; the key is never printed.
"""

from __future__ import annotations

import argparse
import sys

from harmony_pipeline.privacy.pseudonym import patient_key
from harmony_pipeline.settings import MissingKeyError, get_settings, pseudonym_key


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pseudonym",
        help="print the pseudonymous patient_key of one source patient (trusted party; needs the key)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", required=True, help="source id, as in the source contract")
    parser.add_argument("--id", required=True, dest="patient_id", help="the source's own patient id")
    parser.set_defaults(func=run_pseudonym)


def run_pseudonym(args: argparse.Namespace) -> int:
    try:
        key = pseudonym_key(get_settings())
    except MissingKeyError as exc:
        print(f"harmony pseudonym: {exc}", file=sys.stderr)
        return 2
    source, patient_id = args.source.strip(), args.patient_id.strip()
    if not source or not patient_id:
        print("harmony pseudonym: --source and --id must not be empty", file=sys.stderr)
        return 2
    print(patient_key(key, source, patient_id))
    return 0
