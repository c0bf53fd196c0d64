"""publish stage: the anonymised `release` schema becomes a read-only, atomically replaced analyst file."""

from harmony_pipeline.publish.release import (
    RELEASE_ID_PATTERN,
    PublishError,
    ReleaseInfo,
    list_releases,
    publish_release,
    release_path,
    releases_dir,
    resolve_release,
)

__all__ = [
    "RELEASE_ID_PATTERN",
    "PublishError",
    "ReleaseInfo",
    "list_releases",
    "publish_release",
    "release_path",
    "releases_dir",
    "resolve_release",
]
