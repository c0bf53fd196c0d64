"""Run Great Expectations 1.x suites on pandas frames in an ephemeral context, and build Data Docs.

GX runs here for real: the blocking asset checks validate the loaded raw rows of a source with it, and
the gate uses it for any expectation the DuckDB compiler (quality.sql_compile) does not translate.
No dagster-ge: a plain ephemeral context, a pandas datasource, result_format COMPLETE.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuite
from great_expectations.data_context.types.base import ProgressBarsConfig

DOCS_SITE = "harmony"
_counter = itertools.count()

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass
class ExpectationOutcome:
    expectation_type: str
    kwargs: dict
    meta: dict
    success: bool
    unexpected_index: list  # frame index labels of failing rows (map expectations)
    observed: object  # observed_value of aggregate expectations
    error: str | None


def _context(docs_dir: Path | None = None):
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _outcomes(result) -> list[ExpectationOutcome]:
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        info = r.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        outcomes.append(
            ExpectationOutcome(
                expectation_type=cfg.type,
                kwargs=dict(cfg.kwargs),
                meta=dict(cfg.meta or {}),
                success=bool(r.success),
                unexpected_index=list(r.result.get("unexpected_index_list") or []),
                observed=r.result.get("observed_value"),
                error=error,
            )
        )
    return outcomes


def validate_frame(frame: pd.DataFrame, suite: ExpectationSuite) -> list[ExpectationOutcome]:
    """Validate one frame against one suite; failing rows come back as the frame's index labels."""
    context = _context()
    suite = context.suites.add(ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
    batch_def = (
        context.data_sources.add_pandas("frame")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all")
    )
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    return _outcomes(batch.validate(suite, result_format={"result_format": "COMPLETE"}))


def validate_with_docs(
    frames: dict[str, tuple[pd.DataFrame, list[ExpectationSuite]]], docs_dir: Path, run_name: str
) -> tuple[dict[str, list[ExpectationOutcome]], Path]:
    """Validate several named frames through checkpoints that update a Data Docs site in docs_dir.

    Returns the outcomes per name and the site's index.html.
    """
    context = _context(docs_dir)
    datasource = context.data_sources.add_pandas("harmony")
    results: dict[str, list[ExpectationOutcome]] = {}
    for name, (frame, suites) in frames.items():
        batch_def = datasource.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
        outcomes: list[ExpectationOutcome] = []
        for suite in suites:
            n = next(_counter)
            added = context.suites.add(
                ExpectationSuite(name=suite.name, expectations=list(suite.expectations), meta=suite.meta)
            )
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{run_name}.{name}.{n}", data=batch_def, suite=added)
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=f"{run_name}.{name}.{n}",
                    validation_definitions=[validation],
                    actions=[],  # the site is built once below, not once per checkpoint
                    result_format={"result_format": "COMPLETE"},
                )
            )
            run = checkpoint.run(batch_parameters={"dataframe": frame})
            for validation_result in run.run_results.values():
                outcomes += _outcomes(validation_result)
        results[name] = outcomes
    context.build_data_docs(site_names=[DOCS_SITE])
    return results, docs_dir / "index.html"
