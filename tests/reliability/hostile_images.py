"""An ``oci:`` image layout in which every string the image's pusher chooses is hostile.

Tag names (``index.json``'s ``org.opencontainers.image.ref.name`` holds any string), the config's
User, ExposedPorts, Entrypoint, Cmd, Env, Labels, WorkingDir, created and history, and the package
databases (a dpkg ``status`` record, a pip ``METADATA``, a JupyterLab extension, the layer paths they
sit at) carry terminal escape sequences, C1 controls, a bidi override and Rich markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nbcatalog import ocibuild as b

OSC_TITLE = "\x1b]0;PWNED\x07"  # sets the terminal window's title
CLEAR = "\x1b[2J"  # clears the screen
OSC8_LINK = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"  # a hyperlink hiding its target
C1_CSI = "\x9b31m"  # 8-bit CSI: red, on terminals that take C1
RLO = "\u202e"  # right-to-left override
MARKUP = "[red]x[/red]"  # Rich / Textual markup
CLICK = "[@click=app.quit]q[/]"  # Textual markup that runs an action when clicked
LINK = "[link=http://evil]docs[/link]"  # markup for a hyperlink
HOSTILE = (OSC_TITLE, CLEAR, OSC8_LINK, C1_CSI, RLO, MARKUP, CLICK, LINK)

#: How each is shown once escaped (written out by hand: the oracle is not the code under test).
SHOWN = {
    OSC_TITLE: r"\x1b]0;PWNED\x07",
    CLEAR: r"\x1b[2J",
    OSC8_LINK: "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\",
    C1_CSI: r"\x9b31m",
    RLO: r"\u202e",
    MARKUP: MARKUP,
    CLICK: CLICK,
    LINK: LINK,
}

#: The tags of the layout: the plain ones the tests reference, and one per hostile string.
PLAIN_TAG = "v1"
HOSTILE_IMAGE_TAG = "v2"
HOSTILE_TAGS = tuple(f"t{text}" for text in HOSTILE)

SITE = f"opt/venv{OSC_TITLE}/lib/python3.11/site-packages"  # a layer path chosen by the image's builder
PIP_NAME = f"{CLICK}evil"
PIP_VERSION = f"6.6{RLO}6"
APT_NAME = f"evil{OSC_TITLE}"
APT_VERSION = f"1.0{C1_CSI}"
APT_MARKUP_NAME = MARKUP
APT_MARKUP_VERSION = CLEAR + "2"
BASH_VERSION = f"5.3{OSC8_LINK}"
LABEXT_NAME = f"{MARKUP}{CLEAR}"
HISTORY_STEP = f"RUN echo {OSC_TITLE}\necho {CLICK}"  # a newline the image put there: shown as \x0a
#: A METADATA without a Version: the scan warns about it, naming its (hostile) path, on stderr.
BROKEN_METADATA = f"{SITE}/broken{CLEAR}-1.0.dist-info/METADATA"


def status_record(name: str, version: str, arch: str = "amd64") -> str:
    return f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: {arch}\n\n"


@dataclass(frozen=True)
class HostileLayout:
    path: Path

    @property
    def repo(self) -> str:
        return f"oci:{self.path}"

    @property
    def plain(self) -> str:
        """The image with ordinary packages and config (the diff's old side)."""
        return f"{self.repo}:{PLAIN_TAG}"

    @property
    def hostile(self) -> str:
        """The image whose config and packages are hostile."""
        return f"{self.repo}:{HOSTILE_IMAGE_TAG}"


def build_hostile_layout(path: Path) -> HostileLayout:
    """Two images, ``v1`` (plain) and ``v2`` (hostile config and packages), and every hostile tag on v2."""
    plain_layer = b.build_layer(
        [
            b.file("var/lib/dpkg/status", status_record("bash", "5.2")),
            b.file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\njovyan:x:1000:100::/home/jovyan:/bin/bash\n"),
        ],
        "gzip",
    )
    plain = b.build_image([plain_layer], user="jovyan", exposed_ports=["8888"], cmd=["start-notebook.sh"])
    status = (
        status_record("bash", BASH_VERSION)
        + status_record(APT_NAME, APT_VERSION, arch=f"amd64{CLEAR}")
        + status_record(APT_MARKUP_NAME, APT_MARKUP_VERSION)
    )
    labext = json.dumps({"name": LABEXT_NAME, "version": f"1{OSC_TITLE}", "jupyterlab": {"extension": True}})
    hostile_layer = b.build_layer(
        [
            b.file("var/lib/dpkg/status", status),
            b.file(f"{SITE}/evil-1.0.dist-info/METADATA", f"Name: {PIP_NAME}\nVersion: {PIP_VERSION}\n"),
            b.file(BROKEN_METADATA, f"Name: {LINK}\n"),
            b.file("opt/conda/share/jupyter/labextensions/evil-ext/package.json", labext),
        ],
        "gzip",
        created_by=f"COPY {CLICK} / # {OSC_TITLE}",
    )
    hostile = b.build_image(
        [b.EmptyStep(HISTORY_STEP), hostile_layer],
        base=plain,
        created=f"{CLEAR}2024-01-01T00:00:00Z",
        user=OSC_TITLE,
        exposed_ports=[f"8888{CLEAR}/tcp", MARKUP],
        entrypoint=[OSC8_LINK],
        cmd=[C1_CSI, CLICK],
        env={"EVIL": f"{RLO}gnp.exe", "MARKUP": MARKUP, "LINK": LINK},
        labels={"org.opencontainers.image.title": CLICK, f"evil{OSC_TITLE}": MARKUP},
        working_dir=f"/home/{RLO}x",
    )
    tagged: dict[str, b.Artifact] = {PLAIN_TAG: plain, HOSTILE_IMAGE_TAG: hostile}
    tagged.update({tag: hostile for tag in HOSTILE_TAGS})
    b.write_layout(path, tagged)
    return HostileLayout(path)


def write_catalog(directory: Path, layout: HostileLayout) -> Path:
    """A catalog with the hostile image as its one entry (its own tag is an ordinary one)."""
    path = directory / "catalog.yaml"
    path.write_text(
        "images:\n"
        "  - name: evil\n"
        f"    image: {json.dumps(layout.repo)}\n"
        f"    tag: {HOSTILE_IMAGE_TAG}\n"
        "    kind: jupyter\n"
        "    gpu: false\n",
        encoding="utf-8",
    )
    return path
