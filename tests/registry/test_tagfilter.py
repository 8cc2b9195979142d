"""Which entries of a tag list are shown: junk some registries return is dropped, cosign tags hidden."""

from __future__ import annotations

from nbcatalog.registry.tagfilter import visible_tags

SIG = "sha256-" + "b" * 64 + ".sig"
ATT = "sha256-" + "c" * 64 + ".att"
BARE_COSIGN = "sha256-" + "d" * 64
LOOKALIKES = ["x" * 64, "A" * 64, "sha256-" + "e" * 63 + ".sig", "v" + "0" * 70]
RAW: list[object] = [
    "v1",
    None,
    "null",
    "",
    42,
    "sha256:" + "a" * 64,
    "a" * 64,
    SIG,
    "v1",
    BARE_COSIGN,
    ATT,
    *LOOKALIKES,
    "2024-05-27",
]


def test_junk_is_dropped_and_cosign_tags_hidden_in_order() -> None:
    assert visible_tags(RAW) == ["v1", *LOOKALIKES, "2024-05-27"]


def test_cosign_tags_shown_when_asked() -> None:
    assert visible_tags(RAW, include_signatures=True) == ["v1", SIG, BARE_COSIGN, ATT, *LOOKALIKES, "2024-05-27"]
