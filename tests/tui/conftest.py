"""The app under test: the offline demo (oci: layouts) at a fixed path, and a per-test catalog copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.demo import DemoPaths, build_demo
from tests.tui.helpers import DEMO_DIR, HEAD_COMMENT


@pytest.fixture(scope="session")
def demo() -> DemoPaths:
    """Built once (a no-op when this demo version is already there)."""
    return build_demo(DEMO_DIR)


@pytest.fixture
def catalog_path(demo: DemoPaths, tmp_path: Path) -> Path:
    """The demo catalog with an admin's comments, in a directory of the test's own."""
    text = demo.catalog.read_text()
    text = HEAD_COMMENT + text.replace(
        "    tag: v1.9.1\n", "    tag: v1.9.1  # pinned until the VS Code extension is fixed\n"
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path
