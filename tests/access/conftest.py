import pytest
from gateway_fixtures import publish

from harmony_pipeline.settings import get_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HARMONY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HARMONY_ACCESS_POLICY", raising=False)
    monkeypatch.delenv("HARMONY_RELEASES_KEEP", raising=False)
    return get_settings()


@pytest.fixture
def release(settings):
    """One published release; returns its ReleaseInfo."""
    return publish(settings, generation=1)
