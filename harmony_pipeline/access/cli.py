"""`harmony query` (the audited gateway) and `harmony audit` (list / verify the audit log)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from harmony_pipeline.access import audit
from harmony_pipeline.access.audit import AuditError
from harmony_pipeline.access.gateway import AccessRefused, QueryError, query
from harmony_pipeline.settings import get_settings

EXIT_ERROR = 1  # the query failed (bad SQL) or the audit log is broken
EXIT_REFUSED = 3  # the policy or the gateway refused the attempt


def register(subparsers) -> None:
    q = subparsers.add_parser(
        "query",
        help="query a published release through the audited gateway",
        description="Run one read-only SELECT on the published marts your project allows. Every attempt is "
        "audited. Count cells with 0 < n < 11 are suppressed in aggregate results.",
    )
    q.add_argument("--user", required=True, help="your user id in the access policy")
    q.add_argument("--project", help="research project (optional when you are in exactly one)")
    q.add_argument("--release", help="pin a retained release id (default: the current release)")
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    q.add_argument("sql", help='one SELECT statement, e.g. "SELECT count(*) AS n FROM mart_aml"')
    q.set_defaults(func=run_query)

    a = subparsers.add_parser(
        "audit",
        help="list or verify the audit log",
        description="`harmony audit` lists audit records; `harmony audit verify` checks the hash chain "
        "(exit 1 when any record was edited, removed, reordered or cut off).",
    )
    a.add_argument("action", nargs="?", choices=("list", "verify"), default="list")
    a.add_argument("--user", help="only this user's records")
    a.add_argument(
        "--since",
        help="only records at or after this UTC time (ISO 8601, e.g. 2026-01-31 or 2026-01-31T08:00)",
    )
    a.add_argument("--format", choices=("table", "json"), default="table")
    a.set_defaults(func=run_audit)


def run_query(args: argparse.Namespace) -> int:
    try:
        frame = query(args.user, args.sql, project=args.project, release=args.release, interface="cli")
    except AccessRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except QueryError as exc:
        print(f"query failed: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except AuditError as exc:
        print(f"refused: the audit log cannot be written ({exc})", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso"))
    else:
        print(frame.to_string(index=False) if len(frame.columns) else "(no columns)")
        print(f"({len(frame)} rows)")
    return 0


def parse_since(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_audit(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.action == "verify":
        result = audit.verify(settings)
        if result.ok:
            print(
                f"audit log OK: {result.records} records, hash chain and head intact ({audit.log_path(settings)})"
            )
            return 0
        print(f"audit log FAILED verification ({result.records} records):", file=sys.stderr)
        for problem in result.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_ERROR
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        print(f"--since {args.since!r} is not an ISO 8601 time", file=sys.stderr)
        return EXIT_ERROR
    records = audit.select(audit.read_records(settings), user=args.user, since=since)
    if args.format == "json":
        for record in records:
            print(json.dumps(record, sort_keys=True, ensure_ascii=False))
        return 0
    for r in records:
        sql = (r.get("sql") or "").replace("\n", " ")
        sql = sql if len(sql) <= 60 else sql[:57] + "..."
        print(
            f"{r['seq']:>6} {r['time']} {r.get('user')!s:<16} {r.get('role')!s:<13} {r.get('project')!s:<14} "
            f"{r.get('interface')!s:<6} {r.get('outcome'):<8} rows={r.get('rows')} {sql}"
            + (f"  [{r['reason']}]" if r.get("reason") else "")
        )
    print(f"({len(records)} records)")
    return 0
