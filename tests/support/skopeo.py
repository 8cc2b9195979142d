"""skopeo as the independent reference: what it says about the same registry or layout."""

from __future__ import annotations

import json
import subprocess
from typing import Any


def skopeo(*args: str) -> bytes:
    result = subprocess.run(["skopeo", *args], capture_output=True, check=False, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout


def transport(ref: str) -> str:
    return ref if ref.startswith("oci:") else f"docker://{ref}"


def tls(ref: str) -> list[str]:
    return [] if ref.startswith("oci:") else ["--tls-verify=false"]


def list_tags(repo: str, *extra: str) -> list[str]:
    tags: list[str] = json.loads(skopeo("list-tags", *tls(repo), *extra, transport(repo)))["Tags"]
    return tags


def inspect(ref: str, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(skopeo("inspect", *tls(ref), *extra, transport(ref)))
    return doc


def raw_manifest(ref: str, *extra: str) -> bytes:
    return skopeo("inspect", "--raw", *tls(ref), *extra, transport(ref))


def config(ref: str, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(skopeo("inspect", "--config", "--raw", *tls(ref), *extra, transport(ref)))
    return doc
