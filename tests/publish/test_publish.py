"""publish_release: atomic release files, the release table, retention, pinning and the blocking checks."""

import json
import os
from datetime import UTC, datetime, timedelta
from hashlib import sha256

import duckdb
import pytest
from dagster import materialize
from publish_fixtures import build_release_schema

from harmony_pipeline.publish import (
    RELEASE_ID_PATTERN,
    PublishError,
    list_releases,
    publish_release,
    release_path,
    resolve_release,
)
from harmony_pipeline.publish.assets import published_release


def _release_row(path):
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.execute("SELECT * FROM release").fetchdf()
    assert len(frame) == 1
    return frame.iloc[0]


def test_publish_writes_release_file_with_metadata(settings):
    build_release_schema(settings, generation=3, aml_rows=40, mm_rows=30)
    deliveries = [{"source_id": "aml_trial", "delivery_id": "2026-01", "sha256": "ab" * 32}]
    before = datetime.now(UTC).replace(tzinfo=None)
    info = publish_release(settings, deliveries)

    assert RELEASE_ID_PATTERN.match(info.release_id)
    assert info.published_path == settings.published and settings.published.is_file()
    assert info.path == release_path(settings, info.release_id) and info.path.is_file()
    # the current release and the pinned file are the same bytes
    assert info.path.read_bytes() == settings.published.read_bytes()
    assert not list(settings.published_dir.glob("**/*.wal")) and not list(
        settings.published_dir.glob("**/.*tmp*")
    )

    row = _release_row(settings.published)
    assert row.release_id == info.release_id
    assert before - timedelta(seconds=1) <= row.published_at <= datetime.now(UTC).replace(tzinfo=None)
    assert row.code_version == info.code_version and row.code_version.startswith("0.")
    assert json.loads(row.deliveries) == deliveries
    assert json.loads(row.row_counts) == {"mart_aml": 40, "mart_mm": 30}
    report = settings.published_dir / "anonymisation_report.json"
    assert row.anonymisation_report == str(info.anonymisation_report)
    assert info.anonymisation_report.read_bytes() == report.read_bytes()
    assert row.anonymisation_report_sha256 == sha256(report.read_bytes()).hexdigest()


def test_published_tables_equal_the_release_schema(settings):
    build_release_schema(settings, generation=1)
    info = publish_release(settings, [])
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{settings.warehouse}' AS wh (READ_ONLY)")
        con.execute(f"ATTACH '{info.published_path}' AS pub (READ_ONLY)")
        for table in ("mart_aml", "mart_mm"):
            diff = con.execute(
                f"SELECT count(*) FROM ((SELECT * FROM wh.release.{table} EXCEPT ALL SELECT * FROM pub.{table}) "
                f"UNION ALL (SELECT * FROM pub.{table} EXCEPT ALL SELECT * FROM wh.release.{table}))"
            ).fetchone()[0]
            assert diff == 0, table
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name='pub'"
            ).fetchall()
        }
    assert tables == {"mart_aml", "mart_mm", "release"}


def test_retention_keeps_the_newest_n_and_pinning_resolves_them(settings):
    infos = []
    for generation in range(1, 8):
        build_release_schema(settings, generation=generation)
        infos.append(publish_release(settings, [{"generation": generation}], keep=5))
    ids = [i.release_id for i in infos]
    assert ids == sorted(ids) and len(set(ids)) == 7  # sortable and unique, even within one second
    assert list_releases(settings) == ids[2:]
    assert infos[5].removed == [ids[0]] and infos[6].removed == [ids[1]]
    assert not release_path(settings, ids[0]).exists()
    assert not (release_path(settings, ids[0]).parent / f"{ids[0]}.anonymisation_report.json").exists()
    assert _release_row(settings.published).release_id == ids[-1]
    # a pinned release still holds its own data
    pinned = resolve_release(settings, ids[2])
    with duckdb.connect(str(pinned), read_only=True) as con:
        assert con.execute("SELECT DISTINCT generation FROM mart_aml").fetchall() == [(3,)]
    assert resolve_release(settings, None) == settings.published
    with pytest.raises(PublishError, match="not retained"):
        resolve_release(settings, ids[0])
    for bad in ("../warehouse.duckdb", str(settings.warehouse), "latest; DROP", "2026"):
        with pytest.raises(PublishError, match="not a release id"):
            resolve_release(settings, bad)


def test_default_retention_is_five_and_env_overrides(settings, monkeypatch):
    for generation in range(6):
        build_release_schema(settings, generation=generation)
        publish_release(settings, [])
    assert len(list_releases(settings)) == 5
    monkeypatch.setenv("HARMONY_RELEASES_KEEP", "2")
    publish_release(settings, [])
    assert len(list_releases(settings)) == 2


def test_reader_of_old_release_keeps_reading_while_a_new_one_is_published(settings):
    build_release_schema(settings, generation=1)
    publish_release(settings, [], keep=1)
    with duckdb.connect(str(settings.published), read_only=True) as reader:
        build_release_schema(settings, generation=2)
        publish_release(settings, [], keep=1)  # replaces marts.duckdb and deletes the old pinned file
        assert reader.execute("SELECT DISTINCT generation FROM mart_aml").fetchall() == [(1,)]
    with duckdb.connect(str(settings.published), read_only=True) as fresh:
        assert fresh.execute("SELECT DISTINCT generation FROM mart_aml").fetchall() == [(2,)]


def test_failed_publish_leaves_the_current_release_untouched(settings):
    build_release_schema(settings, generation=1)
    first = publish_release(settings, [])
    report = settings.published_dir / "anonymisation_report.json"

    report.write_text(json.dumps({"passed": False}))
    with pytest.raises(PublishError, match="passed=false"):
        publish_release(settings, [])
    report.unlink()
    with pytest.raises(PublishError, match="no anonymisation report"):
        publish_release(settings, [])
    report.write_text("{not json")
    with pytest.raises(PublishError, match="not valid JSON"):
        publish_release(settings, [])
    report.write_text("{}")
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("DROP SCHEMA release CASCADE")
    with pytest.raises(PublishError, match="nothing to publish"):
        publish_release(settings, [])

    assert list_releases(settings) == [first.release_id]
    assert _release_row(settings.published).release_id == first.release_id
    leftovers = [
        p.name for p in settings.published_dir.rglob("*") if p.name.startswith(".") and p.suffix != ".lock"
    ]
    assert leftovers == []


def test_no_warehouse_is_an_error(settings):
    with pytest.raises(PublishError, match="no warehouse"):
        publish_release(settings, [])
    assert not settings.published.exists()


def test_published_release_asset_materialises_with_metadata(settings):
    build_release_schema(settings, generation=4)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute(
            "CREATE TABLE ops.delivery_ledger AS SELECT * FROM (VALUES ('aml_trial', 'd2', 'h2'), "
            "('aml_trial', 'd1', 'h1')) t(source_id, delivery_id, content_sha256)"
        )
    result = materialize([published_release])
    assert result.success
    events = result.asset_materializations_for_node("publish__published_release")
    metadata = events[0].metadata
    release_id = metadata["release_id"].value
    assert release_id == list_releases(settings)[-1]
    assert metadata["row_counts"].value == {"mart_aml": 40, "mart_mm": 30}
    row = _release_row(settings.published)
    assert [d["delivery_id"] for d in json.loads(row.deliveries)] == ["d1", "d2"]
    assert os.path.samefile(metadata["pinned_path"].value, release_path(settings, release_id))
