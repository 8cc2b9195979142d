"""Each ecosystem parser against real package databases and independent tools' answers."""

from __future__ import annotations

import email.parser
import importlib.metadata
import json
import re
import subprocess
from pathlib import Path

import pytest

from nbcatalog.packages import conda, dpkg, jupyterlab, pip, rlib
from nbcatalog.packages.files import PLAIN_FILES, classify, parse_file, size_cap
from tests.packages.conftest import this_site_packages

STATUS = Path("/var/lib/dpkg/status")


def _dpkg_query(status_text: str, tmp_path: Path) -> set[tuple[str, str, str]]:
    admindir = tmp_path / "admin"
    (admindir / "info").mkdir(parents=True)
    (admindir / "status").write_text(status_text)
    (admindir / "available").write_text("")
    out = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={admindir}",
            "-W",
            "-f",
            "${db:Status-Status} ${Package} ${Version} ${Architecture}\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = set()
    for line in out.splitlines():
        state, name, version, arch = line.split(" ")
        if state == "installed":
            rows.add((name, version, arch))
    return rows


def test_dpkg_status_of_this_machine_matches_dpkg_query(tmp_path: Path) -> None:
    text = STATUS.read_text()
    parsed = dpkg.parse("var/lib/dpkg/status", text.encode())
    assert parsed.warnings == []
    ours = {(p.name, p.version, p.extra["arch"]) for p in parsed.packages}
    truth = _dpkg_query(text, tmp_path)
    assert len(truth) > 50
    assert ours == truth
    assert {p.location for p in parsed.packages} == {"/var/lib/dpkg/status"}


def test_dpkg_skips_removed_packages_and_warns_about_malformed_records(tmp_path: Path) -> None:
    text = (
        "Package: kept\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n"
        "Description: x\n long text\n .\n more\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 2.0\n\n"
        "Status: install ok installed\nVersion: 3.0\n\n"
        "Package: held\nStatus: hold ok installed\nVersion: 4.0\nArchitecture: all\n"
    )
    parsed = dpkg.parse("var/lib/dpkg/status", text.encode())
    assert [(p.name, p.version) for p in parsed.packages] == [("kept", "1.0-1"), ("held", "4.0")]
    assert parsed.warnings == ["/var/lib/dpkg/status:14: installed record without Package or Version"]
    assert {
        (n, v) for n, v, _ in _dpkg_query(text.replace("Status: install ok installed\nVersion: 3.0\n\n", ""), tmp_path)
    } == {
        ("kept", "1.0-1"),
        ("held", "4.0"),
    }


def test_distroless_status_d_files() -> None:
    paragraph = "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"
    assert classify("var/lib/dpkg/status.d/tzdata") == "apt"
    assert classify("var/lib/dpkg/status.d/tzdata.md5sums") is None
    parsed = dpkg.parse("var/lib/dpkg/status.d/tzdata", paragraph.encode())
    assert [(p.name, p.version, p.location) for p in parsed.packages] == [
        ("tzdata", "2024a-0+deb12u1", "/var/lib/dpkg/status.d")
    ]


def _dist_info_files(site: Path) -> dict[str, bytes]:
    """site-packages metadata files as tar paths would name them, classified like the layer walk does."""
    out = {}
    for path in site.iterdir():
        for candidate in (path / "METADATA", path / "PKG-INFO", path):
            if candidate.is_file():
                tar_path = f"usr/lib/python3/dist-packages/{candidate.relative_to(site)}"
                if classify(tar_path) == "pip":
                    out[tar_path] = candidate.read_bytes()
                    break
    return out


@pytest.mark.parametrize("which", ["this-python", "fresh-venv", "debian-dist-packages"])
def test_pip_metadata_matches_importlib_metadata(which: str, fresh_venv: Path) -> None:
    site = {
        "this-python": this_site_packages(),
        "fresh-venv": fresh_venv,
        "debian-dist-packages": Path("/usr/lib/python3/dist-packages"),
    }[which]
    if not site.is_dir():
        pytest.skip(f"{site} does not exist on this machine")
    ours = set()
    for tar_path, data in _dist_info_files(site).items():
        ecosystem, parsed = parse_file(tar_path, data)
        assert ecosystem == "pip"
        assert parsed.warnings == []
        ours.update((p.name, p.version, p.location) for p in parsed.packages)
    truth = {
        (dist.metadata["Name"], dist.version, "/usr/lib/python3/dist-packages")
        for dist in importlib.metadata.distributions(path=[str(site)])
    }
    assert len(truth) >= 2
    assert ours == truth


def test_pip_metadata_without_version_is_a_warning() -> None:
    parsed = pip.parse(
        "opt/venv/lib/python3.11/site-packages/x-1.dist-info/METADATA", b"Metadata-Version: 2.1\nName: x\n"
    )
    assert parsed.packages == []
    assert parsed.warnings == [
        "/opt/venv/lib/python3.11/site-packages/x-1.dist-info/METADATA: metadata without Name or Version"
    ]


def test_r_descriptions_from_debian_packages(r_root: tuple[Path, dict[str, str]]) -> None:
    root, deb_versions = r_root
    descriptions = sorted(root.glob("usr/lib/R/site-library/*/DESCRIPTION"))
    assert len(descriptions) == 2
    for description in descriptions:
        tar_path = str(description.relative_to(root))
        ecosystem, parsed = parse_file(tar_path, description.read_bytes())
        assert ecosystem == "r"
        (package,) = parsed.packages
        fields = email.parser.Parser().parsestr(description.read_text())
        assert (package.name, package.version) == (fields["Package"], fields["Version"])
        assert package.location == "/usr/lib/R/site-library"
        # Debian's version is the upstream one (+dfsg and such) with a revision appended.
        upstream = re.split(r"[+-]", deb_versions[f"r-cran-{package.name.lower()}"].rsplit("-", 1)[0])[0]
        assert package.version.replace("-", ".").startswith(upstream.replace("-", "."))


def test_r_description_without_version_is_a_warning() -> None:
    parsed = rlib.parse("usr/local/lib/R/site-library/x/DESCRIPTION", b"Package: x\nTitle: t\n")
    assert parsed.warnings == ["/usr/local/lib/R/site-library/x/DESCRIPTION:1: DESCRIPTION without Package or Version"]


def _conda_record(name: str, version: str, build: str, channel: str) -> bytes:
    return json.dumps(
        {
            "build": build,
            "build_number": 0,
            "channel": channel,
            "files": ["lib/x.so"],
            "name": name,
            "paths_data": {"paths": [{"_path": "lib/x.so", "path_type": "hardlink"}]},
            "version": version,
        }
    ).encode()


@pytest.mark.parametrize(
    ("path", "prefix"),
    [
        ("opt/conda/conda-meta/numpy-1.26.4-py311_0.json", "/opt/conda"),
        ("opt/conda/envs/r-env/conda-meta/numpy-1.26.4-py311_0.json", "/opt/conda/envs/r-env"),
        ("conda-meta/numpy-1.26.4-py311_0.json", "/"),
    ],
)
def test_conda_records_under_any_prefix(path: str, prefix: str) -> None:
    data = _conda_record("numpy", "1.26.4", "py311h_0", "https://conda.anaconda.org/conda-forge/linux-64")
    ecosystem, parsed = parse_file(path, data)
    assert ecosystem == "conda"
    (package,) = parsed.packages
    assert (package.name, package.version, package.location) == ("numpy", "1.26.4", prefix)
    assert package.extra == {"build": "py311h_0", "channel": "conda-forge"}


def test_conda_channel_names() -> None:
    assert conda.channel_name("conda-forge") == "conda-forge"
    assert conda.channel_name("https://conda.anaconda.org/conda-forge/noarch") == "conda-forge"
    assert conda.channel_name("https://repo.anaconda.com/pkgs/main/linux-64") == "pkgs/main"
    assert conda.channel_name("https://example.org/mirror/c/linux-aarch64") == "example.org/mirror/c"


def test_conda_history_and_malformed_records() -> None:
    assert classify("opt/conda/conda-meta/history") is None
    _, parsed = parse_file("opt/conda/conda-meta/broken-1-0.json", b"{not json")
    assert parsed.packages == []
    assert parsed.warnings[0].startswith("/opt/conda/conda-meta/broken-1-0.json: not JSON")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("opt/conda/share/jupyter/labextensions/jupyterlab-plotly/package.json", True),
        ("usr/local/share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager/package.json", True),
        ("opt/conda/share/jupyter/labextensions/jupyterlab-plotly/static/package.json", False),
        ("opt/conda/share/jupyter/labextensions/package.json", False),
        ("opt/notshare/jupyter/labextensions/x/package.json", False),
    ],
)
def test_labextension_manifests(path: str, expected: bool) -> None:
    assert jupyterlab.is_extension_manifest(path) is expected
    assert (classify(path) == "jupyterlab") is expected


def test_labextension_parse() -> None:
    path = "opt/conda/share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager/package.json"
    _, parsed = parse_file(
        path, json.dumps({"name": "@jupyter-widgets/jupyterlab-manager", "version": "5.0.11"}).encode()
    )
    (package,) = parsed.packages
    assert (package.name, package.version, package.location) == (
        "@jupyter-widgets/jupyterlab-manager",
        "5.0.11",
        "/opt/conda/share/jupyter/labextensions",
    )


@pytest.mark.parametrize(
    ("path", "ecosystem"),
    [
        ("var/lib/dpkg/status", "apt"),
        ("var/lib/dpkg/status-old", None),
        ("srv/var/lib/dpkg/status", None),
        ("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "pip"),
        ("opt/conda/lib/python3.11/site-packages/foo.egg-info/PKG-INFO", "pip"),
        ("usr/lib/python3/dist-packages/foo-1.0.egg-info", "pip"),
        ("home/x/src/foo.egg-info/PKG-INFO", None),
        ("usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD", None),
        ("usr/local/lib/R/site-library/jsonlite/DESCRIPTION", "r"),
        ("opt/conda/envs/r/lib/R/library/base/DESCRIPTION", "r"),
        ("usr/local/lib/R/site-library/jsonlite/tests/DESCRIPTION", None),
        ("usr/share/doc/DESCRIPTION", None),
        ("opt/conda/pkgs/six-1.16.0-pyh6c4a22f_0/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA", None),
        (
            "opt/conda/pkgs/jupyterlab-plotly-5.18.0-py_0/share/jupyter/labextensions/jupyterlab-plotly/package.json",
            None,
        ),
        ("opt/conda/pkgs/r-base-4.3.3-h0_0/lib/R/library/base/DESCRIPTION", None),
        ("usr/lib/python3/dist-packages/pkgs/site-packages/x.dist-info/METADATA", "pip"),
        ("opt/conda/conda-meta/numpy-1.26.4-py311h0_0.json", "conda"),
        ("opt/conda/conda-meta/history", None),
        ("var/lib/dpkg/status.d/tzdata", "apt"),
        ("var/lib/dpkg/status.d/tzdata.md5sums", None),
        ("usr/share/app/package.json", None),
        ("usr/lib/python3/dist-packages/six.py", None),
        ("etc/passwd", None),
        ("srv/etc/passwd", None),
    ],
)
def test_classify(path: str, ecosystem: str | None) -> None:
    assert classify(path) == ecosystem
    # its quick reject agrees with classify; plain files (/etc/passwd) are read too, but parsed by nobody
    assert (size_cap(path) > 0) is (ecosystem is not None or path in PLAIN_FILES)
