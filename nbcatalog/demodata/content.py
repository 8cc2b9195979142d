"""Package databases as real images carry them, generated: dpkg status, conda-meta, dist-info, R, labextensions.

Each helper returns ``FileEntry`` objects at the paths the package readers look at, in the formats
the real tools write (so the demo exercises the same parsers a real image does).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from nbcatalog.demodata.dpkg_status import BOOKWORM_STATUS
from nbcatalog.ocibuild import FileEntry, file, whiteout

CONDA = "opt/conda"
SITE_PACKAGES = f"{CONDA}/lib/python3.11/site-packages"
LABEXTENSIONS = f"{CONDA}/share/jupyter/labextensions"
R_SITE_LIBRARY = "usr/local/lib/R/site-library"
DPKG_STATUS = "var/lib/dpkg/status"


def dpkg_stanza(
    name: str,
    version: str,
    description: str,
    *,
    section: str = "misc",
    depends: str = "",
    installed_size: int = 1024,
    maintainer: str = "Debian Maintainers <debian-devel@lists.debian.org>",
) -> str:
    """A stanza in ``dpkg --status`` shape for a package the real status file lacks (code-server, R)."""
    lines = [
        f"Package: {name}",
        "Status: install ok installed",
        "Priority: optional",
        f"Section: {section}",
        f"Installed-Size: {installed_size}",
        f"Maintainer: {maintainer}",
        "Architecture: amd64",
        f"Version: {version}",
    ]
    if depends:
        lines.append(f"Depends: {depends}")
    lines.append(f"Description: {description}")
    return "\n".join(lines) + "\n"


def dpkg_status(versions: Mapping[str, str], extra: Sequence[str] = (), architecture: str = "amd64") -> FileEntry:
    """The bookworm stanzas with ``versions`` overriding some, plus ``extra`` stanzas appended.

    A child layer that installs debs rewrites the whole file, as dpkg does: pass the parent's extras too.
    """
    stanzas = []
    for stanza in [*BOOKWORM_STATUS.strip().split("\n\n"), *(s.strip() for s in extra)]:
        name = stanza.split("\n", 1)[0].removeprefix("Package: ")
        if name in versions:
            stanza = re.sub(r"^Version: .*$", f"Version: {versions[name]}", stanza, flags=re.MULTILINE)
        if architecture != "amd64":
            stanza = stanza.replace("Architecture: amd64", f"Architecture: {architecture}")
        stanzas.append(stanza + "\n")
    return file(DPKG_STATUS, "\n".join(stanzas))


def conda_record(
    name: str,
    version: str,
    build: str,
    *,
    subdir: str = "linux-64",
    channel: str = "conda-forge",
    depends: Sequence[str] = (),
) -> FileEntry:
    """``conda-meta/NAME-VERSION-BUILD.json`` as conda writes it (trimmed to the usual keys)."""
    record = {
        "build": build,
        "build_number": int(build.rsplit("_", 1)[-1]) if build.rsplit("_", 1)[-1].isdigit() else 0,
        "channel": f"https://conda.anaconda.org/{channel}/{subdir}",
        "depends": list(depends),
        "files": [],
        "fn": f"{name}-{version}-{build}.conda",
        "name": name,
        "subdir": subdir,
        "url": f"https://conda.anaconda.org/{channel}/{subdir}/{name}-{version}-{build}.conda",
        "version": version,
    }
    return file(f"{CONDA}/conda-meta/{name}-{version}-{build}.json", json.dumps(record, indent=2) + "\n")


def dist_info(
    name: str, version: str, summary: str, *, requires: Sequence[str] = (), site: str = SITE_PACKAGES
) -> list[FileEntry]:
    """``NAME-VERSION.dist-info/{METADATA,INSTALLER}`` as pip leaves them."""
    folder = f"{site}/{name.replace('-', '_')}-{version}.dist-info"
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {summary}",
        *(f"Requires-Dist: {requirement}" for requirement in requires),
        "",
        f"{summary}.",
    ]
    return [file(f"{folder}/METADATA", "\n".join(metadata) + "\n"), file(f"{folder}/INSTALLER", "pip\n")]


def remove_dist_info(name: str, version: str, site: str = SITE_PACKAGES) -> FileEntry:
    """The whiteout a later ``pip install -U`` layer leaves for the old version's metadata."""
    return whiteout(f"{site}/{name.replace('-', '_')}-{version}.dist-info")


def r_description(
    name: str, version: str, title: str, *, r_version: str = "4.4.1", library: str = R_SITE_LIBRARY
) -> FileEntry:
    """``<library>/<pkg>/DESCRIPTION`` of a CRAN package installed by ``install.packages``."""
    fields = [
        f"Package: {name}",
        "Type: Package",
        f"Title: {title}",
        f"Version: {version}",
        "License: GPL-3",
        "Encoding: UTF-8",
        "NeedsCompilation: no",
        "Repository: CRAN",
        f"Built: R {r_version}; ; 2024-06-15 00:00:00 UTC; unix",
    ]
    return file(f"{library}/{name}/DESCRIPTION", "\n".join(fields) + "\n")


def labextension(name: str, version: str, description: str) -> list[FileEntry]:
    """A prebuilt extension: its ``package.json`` (with the ``jupyterlab`` key) and a static bundle."""
    manifest = {
        "name": name,
        "version": version,
        "description": description,
        "license": "BSD-3-Clause",
        "jupyterlab": {"extension": True, "outputDir": "labextension", "_build": {"load": "static/remoteEntry.js"}},
    }
    folder = f"{LABEXTENSIONS}/{name}"
    return [
        file(f"{folder}/package.json", json.dumps(manifest, indent=2) + "\n"),
        file(f"{folder}/static/remoteEntry.js", f"/* {name} {version} */\n"),
        # Nested package.json files in static bundles are not extensions: the readers must skip them.
        file(f"{folder}/static/package.json", json.dumps({"name": "bundle", "version": "0.0.0"}) + "\n"),
    ]
