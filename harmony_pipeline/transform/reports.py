"""What the UI shows about the warehouse once dbt has built it: data-quality results, mapping
coverage and the dbt docs (group quality); mart sizes, previews and Kaplan-Meier plots (group marts).

Reads the warehouse only, writes files under $HARMONY_HOME/reports/.
"""

import base64
import hashlib
import json
from importlib.metadata import version as package_version
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from harmony_pipeline.privacy.release_state import table_fingerprints
from harmony_pipeline.settings import Settings, get_settings
from harmony_pipeline.transform.assets import dbt_environment, mart_asset_keys
from harmony_pipeline.transform.project import MANIFEST, dbt_resource
from harmony_pipeline.warehouse import connect_warehouse

PREVIEW_ROWS = 5


def markdown_table(con, sql: str, params=None) -> str:
    frame = con.execute(sql, params or []).df()
    return frame.to_markdown(index=False) if len(frame) else "_no rows_"


def image_markdown(path: Path) -> str:
    """A PNG inlined in markdown: the Dagster UI renders it in the asset's metadata."""
    encoded = base64.b64encode(path.read_bytes()).decode()
    return f"**{path.stem}**\n\n![{path.stem}](data:image/png;base64,{encoded})"


def generate_dbt_docs(docs_dir: Path) -> bool:
    """`dbt docs generate` (its catalog reads the warehouse's tables and columns), only when the dbt
    project changed since the site was built: the catalog follows from the models alone, and
    generating it costs a dbt start-up plus a compile of every node. True when it was regenerated."""
    stamp = docs_dir / "manifest.sha256"
    manifest_hash = hashlib.sha256(MANIFEST.read_bytes()).hexdigest()
    if (docs_dir / "index.html").exists() and stamp.exists() and stamp.read_text() == manifest_hash:
        return False
    dbt_resource().cli(["docs", "generate"], target_path=docs_dir, manifest=MANIFEST).wait()
    stamp.write_text(manifest_hash)
    return True


KM_PLOTS_STAMP = "plots.json"


def write_changed_km_plots(settings: Settings) -> tuple[list[Path], list[str]]:
    """The Kaplan-Meier plots of every km_* mart, redrawn only for the marts whose content (or the
    plotting code) changed since their plots were drawn: a plot follows from its km table alone.
    Returns every plot (in drawing order) and the diseases redrawn."""
    from harmony_pipeline import survival

    out_dir = settings.reports / "km"
    stamp_path = out_dir / KM_PLOTS_STAMP
    code = hashlib.sha256(Path(survival.__file__).read_bytes())
    code.update(package_version("matplotlib").encode())
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    drawn = stamp.get("diseases", {}) if stamp.get("code") == code.hexdigest() else {}
    with connect_warehouse(settings, read_only=True) as con:
        fingerprints = table_fingerprints(con, "marts", tables=[f"km_{d}" for d in survival.KM_SPECS])
    diseases = [d for d in survival.KM_SPECS if f"km_{d}" in fingerprints]
    changed = [
        d
        for d in diseases
        if drawn.get(d, {}).get("fingerprint") != fingerprints[f"km_{d}"]
        or not all((out_dir / name).exists() for name in drawn[d]["plots"])
    ]
    # plots of a redrawn or vanished curve set go, so none outlives its curves
    for disease, entry in stamp.get("diseases", {}).items():
        if disease in changed or disease not in diseases:
            for name in entry.get("plots", []):
                (out_dir / name).unlink(missing_ok=True)
    fresh = survival.write_km_plots(settings.warehouse, out_dir, changed) if changed else []
    plots: dict[str, list[str]] = {d: drawn[d]["plots"] for d in diseases if d not in changed}
    for disease in changed:
        plots[disease] = [p.name for p in fresh if p.name.startswith(f"km_{disease}_")]
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = {
        "code": code.hexdigest(),
        "diseases": {d: {"fingerprint": fingerprints[f"km_{d}"], "plots": plots[d]} for d in diseases},
    }
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
    return [out_dir / name for d in diseases for name in plots[d]], changed


@asset(
    key=["reports", "omop_quality"],
    group_name="quality",
    deps=[AssetKey(["ops", "dq_results"]), AssetKey(["ops", "mapping_coverage"])],
    pool="harmony_warehouse",
    description="Summary of the DataQualityDashboard-style checks and vocabulary mapping coverage, "
    "and the dbt docs site generated for this warehouse.",
)
def omop_quality(context: AssetExecutionContext) -> MaterializeResult:
    settings = get_settings()
    dbt_environment(settings)
    docs_dir = settings.reports / "dbt_docs"
    docs_generated = generate_dbt_docs(docs_dir)
    with connect_warehouse(settings, read_only=True) as con:
        total, passed, fatal_failed = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE passed), "
            "count(*) FILTER (WHERE NOT passed AND severity = 'fatal') FROM ops.dq_results"
        ).fetchone()
        failed = markdown_table(
            con,
            'SELECT check_name, severity, "table", field, violated_rows, violated_pct, threshold_pct '
            "FROM ops.dq_results WHERE NOT passed ORDER BY severity, check_name LIMIT 30",
        )
        coverage = markdown_table(con, "SELECT * FROM ops.mapping_coverage ORDER BY ALL LIMIT 60")
    return MaterializeResult(
        metadata={
            "dq_check_instances": total,
            "dq_checks_passed": passed,
            "dq_fatal_failures": fatal_failed,
            "dq_failed_checks": MetadataValue.md(failed),
            "mapping_coverage": MetadataValue.md(coverage),
            "dbt_docs": MetadataValue.url((docs_dir / "index.html").as_uri()),
            "dbt_docs_regenerated": docs_generated,
            "dbt_docs_path": MetadataValue.path(str(docs_dir / "index.html")),
        }
    )


@asset(
    key=["reports", "marts_overview"],
    group_name="marts",
    deps=mart_asset_keys(),
    pool="harmony_warehouse",
    description="Rows per mart, a preview of each, and Kaplan-Meier plots per disease and risk "
    "classification (PNG files under reports/km/, shown inline).",
)
def marts_overview(context: AssetExecutionContext) -> MaterializeResult:
    settings = get_settings()
    plots, redrawn = write_changed_km_plots(settings)
    metadata = {"km_plots_redrawn": MetadataValue.json(redrawn)}
    with connect_warehouse(settings, read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        counts = {t: con.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0] for t in tables}
        metadata["rows_per_mart"] = MetadataValue.json(counts)
        for table in tables:
            if table.startswith("mart_"):
                metadata[f"preview_{table}"] = MetadataValue.md(
                    markdown_table(con, f'SELECT * FROM marts."{table}" ORDER BY ALL LIMIT {PREVIEW_ROWS}')
                )
    metadata["km_plots"] = MetadataValue.md("\n\n".join(image_markdown(p) for p in plots) or "none")
    metadata["km_plot_dir"] = MetadataValue.path(str(settings.reports / "km"))
    context.log.info(f"{len(plots)} Kaplan-Meier plots, redrawn for {redrawn or 'no disease'}")
    return MaterializeResult(metadata=metadata)


assets = [omop_quality, marts_overview]
