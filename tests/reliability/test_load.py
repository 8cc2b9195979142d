"""An audit of 1,000 references over 100 repositories: every finding right, memory bounded, and the
registry never overwhelmed (bounded concurrency: no connection errors)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.reliability.load import (
    EXPECTED,
    ConnectionGauge,
    Workload,
    push_repositories,
    run_audit,
    write_profiles,
)
from tests.support.registry import Pusher, RegistryServer

REFERENCES = 1000
REPOSITORIES = 100
#: Peak RSS of the whole audit process (Python + httpx + YAML + 1,000 findings).
RSS_BUDGET_MIB = 150
TAG_KINDS = {"stale-tag", "missing-tag", "mutable-tag", "registry-error"}


#: The session's connection pool (2 x its concurrency of 8): the most connections the registry may see.
MAX_CONNECTIONS = 16


@pytest.fixture(scope="module")
def gauge(registry: RegistryServer) -> Iterator[ConnectionGauge]:
    relay = ConnectionGauge(registry.host)
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def workload(pusher: Pusher, gauge: ConnectionGauge, tmp_path_factory: pytest.TempPathFactory) -> Workload:
    repositories = push_repositories(pusher, gauge.host, "reliability-load", REPOSITORIES)
    return write_profiles(tmp_path_factory.mktemp("load-profiles"), repositories, REFERENCES)


@pytest.mark.parametrize("facts", ["--tags-only", "--with-facts"])
def test_audit_of_1000_references(workload: Workload, gauge: ConnectionGauge, facts: str) -> None:
    gauge.peak = gauge.open
    result = run_audit(workload.paths, "--no-cache", *([facts] if facts == "--tags-only" else []))
    assert result["code"] == 0, result["stderr"]
    findings = result["doc"]["findings"]
    by_image: dict[str, set[str]] = {}
    for finding in findings:
        if finding["kind"] not in TAG_KINDS:  # unknown-image (no catalog here), Kubeflow facts
            continue
        by_image.setdefault(finding["image"], set()).add(finding["kind"])
    assert "registry-error" not in Counter(f["kind"] for f in findings), result["stderr"][-2000:]
    for reference in set(workload.references):
        kind = EXPECTED[reference.rsplit(":", 1)[1]]
        assert (kind in by_image.get(reference, set())) if kind else (reference not in by_image), reference
    counted = Counter(f["kind"] for f in findings if f["kind"] in ("stale-tag", "missing-tag"))
    assert counted == workload.expected()
    assert len(workload.references) >= REFERENCES
    if facts == "--with-facts":  # every image whose tag exists had its config read and judged
        judged = {f["image"] for f in findings if f["kind"] == "not-kubeflow-ready"}
        assert judged == {ref for ref in workload.references if not ref.endswith(":v9.9.9")}
    stale = [f for f in findings if f["kind"] == "stale-tag"]
    assert {f["suggested"] for f in stale} == {"v2.0.0"}
    assert result["peak_rss_mib"] < RSS_BUDGET_MIB, result["peak_rss_mib"]
    assert 1 < gauge.peak <= MAX_CONNECTIONS, gauge.peak
    print(f"\naudit {facts}: {len(workload.references)} refs in {result['seconds']:.1f} s, "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB, at most {gauge.peak} connections")  # fmt: skip
