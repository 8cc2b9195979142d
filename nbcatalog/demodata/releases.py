"""The demo's releases: one tag of every image each, and the package versions that move between them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    """One tag of every demo image, with the versions that differ between releases.

    A package missing from ``versions`` is not installed in that release (diffs show it added/removed).
    """

    tag: str
    created: str
    versions: dict[str, str]
    platforms: tuple[str, ...] = ("linux/amd64",)


RELEASES: tuple[Release, ...] = (
    Release(
        "v1.9.0",
        "2024-07-22T09:00:00Z",
        {
            "openssl": "3.0.13-1~deb12u1",
            "curl": "7.88.1-10+deb12u6",
            "tzdata": "2024a-0+deb12u1",
            "s6": "3.1.6.2",
            "python": "3.11.9",
            "conda": "24.3.0",
            "pip": "24.0",
            "jupyterlab": "4.1.8",
            "notebook": "7.1.3",
            "jupyter_server": "2.14.0",
            "ipykernel": "6.29.4",
            "widgets": "5.0.10",
            "jupyterlab-git": "0.50.1",
            "torch": "2.3.1",
            "torchvision": "0.18.1",
            "cudnn": "8.9.2.26",
            "nccl": "2.20.5",
            "code-server": "4.89.1",
            "rstudio": "2024.04.2+764",
            "r": "4.4.1-1~bookwormcran.0",
            "rmarkdown": "2.27",
            "shiny": "1.8.1.1",
        },
    ),
    Release(
        "v1.9.1",
        "2024-10-09T09:00:00Z",
        {
            "openssl": "3.0.14-1~deb12u2",
            "curl": "7.88.1-10+deb12u7",
            "tzdata": "2024a-0+deb12u1",
            "s6": "3.1.6.2",
            "python": "3.11.9",
            "conda": "24.7.1",
            "pip": "24.2",
            "jupyterlab": "4.2.5",
            "notebook": "7.2.2",
            "jupyter_server": "2.14.2",
            "ipykernel": "6.29.5",
            "widgets": "5.0.13",
            "jupyterlab-git": "0.50.1",
            "torch": "2.4.1",
            "torchvision": "0.19.1",
            "cudnn": "9.1.0.70",
            "nccl": "2.20.5",
            "code-server": "4.92.2",
            "rstudio": "2024.09.0+375",
            "r": "4.4.1-1~bookwormcran.0",
            "rmarkdown": "2.28",
            "shiny": "1.9.1",
        },
    ),
    Release(
        "v1.10.0",
        "2025-03-26T09:00:00Z",
        {
            "openssl": "3.0.15-1~deb12u1",
            "curl": "7.88.1-10+deb12u8",
            "tzdata": "2024b-0+deb12u1",
            "s6": "3.2.0.2",
            "python": "3.11.11",
            "conda": "24.11.3",
            "pip": "25.0",
            "jupyterlab": "4.3.5",
            "notebook": "7.3.2",
            "jupyter_server": "2.15.0",
            "ipykernel": "6.29.5",
            "widgets": "5.0.13",
            "jupyterlab-lsp": "5.1.0",
            "torch": "2.5.1",
            "torchvision": "0.20.1",
            "cudnn": "9.1.0.70",
            "nccl": "2.21.5",
            "code-server": "4.96.4",
            "rstudio": "2024.12.1+563",
            "r": "4.4.2-1~bookwormcran.0",
            "rmarkdown": "2.29",
            "shiny": "1.10.0",
        },
        platforms=("linux/amd64", "linux/arm64"),
    ),
)
