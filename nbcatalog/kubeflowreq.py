"""Kubeflow's requirements for notebook images, checked from an image's config and ``/etc/passwd``.

Kubeflow's docs ask a notebook image to serve HTTP on 8888, to run as ``jovyan`` (UID 1000) with its
home at ``/home/jovyan``; the example-notebook-servers also start s6-overlay (``/init``) as that user,
while docker-stacks use tini. Each requirement is reported met, not met, or unknown (``None``: the
evidence needed, such as ``/etc/passwd``, was not available), always with the evidence used.
Pure: the caller reads ``/etc/passwd`` from the layers and passes its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbcatalog.oci import ImageConfig

if TYPE_CHECKING:
    from nbcatalog.refs import AnyRef
    from nbcatalog.session import Session

NOTEBOOK_PORT = "8888/tcp"
NOTEBOOK_USER = "jovyan"
NOTEBOOK_UID = 1000
NOTEBOOK_HOME = "/home/jovyan"


@dataclass(frozen=True, slots=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement: ``met`` is True, False, or None when it could not be decided."""

    key: str
    description: str
    met: bool | None
    evidence: str
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "description": self.description,
            "met": self.met,
            "required": self.required,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class KubeflowReport:
    requirements: tuple[Requirement, ...]
    init_system: str  # s6-overlay | tini | other | none
    user: str
    uid: int | None

    @property
    def ready(self) -> bool | None:
        """False if a required item failed; None if none failed but some were undecided."""
        results = [r.met for r in self.requirements if r.required]
        if False in results:
            return False
        return None if None in results else True

    @property
    def failures(self) -> list[Requirement]:
        return [r for r in self.requirements if r.required and r.met is False]


def parse_passwd(text: str) -> list[PasswdEntry]:
    """``/etc/passwd`` lines (``name:x:uid:gid:gecos:home:shell``); malformed lines are skipped,
    as libc skips them."""
    entries: list[PasswdEntry] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < 7:
            continue
        try:
            entries.append(PasswdEntry(fields[0], int(fields[2]), int(fields[3]), fields[5], fields[6]))
        except ValueError:
            continue
    return entries


def _resolve_user(user: str, passwd: list[PasswdEntry] | None) -> tuple[str, int | None, PasswdEntry | None]:
    """The config's ``User`` (``name``, ``uid``, ``name:group``, ``uid:gid``; empty = root)."""
    name_or_uid = user.split(":", 1)[0].strip() or "root"
    entry: PasswdEntry | None = None
    if passwd is not None:
        if name_or_uid.isdigit():
            entry = next((e for e in passwd if e.uid == int(name_or_uid)), None)
        else:
            entry = next((e for e in passwd if e.name == name_or_uid), None)
    if entry is not None:
        return entry.name, entry.uid, entry
    if name_or_uid.isdigit():
        return name_or_uid, int(name_or_uid), None
    return name_or_uid, 0 if name_or_uid == "root" else None, None


def _init_system(config: ImageConfig) -> tuple[str, str]:
    entrypoint = list(config.entrypoint)
    first = entrypoint[0] if entrypoint else ""
    base = first.rsplit("/", 1)[-1]
    shown = " ".join(entrypoint) or "(none)"
    if first == "/init" or (base == "init" and any(key.startswith("S6_") for key in config.env)):
        return "s6-overlay", f"Entrypoint {shown}"
    if base in ("tini", "tini-static", "docker-init"):
        return "tini", f"Entrypoint {shown}"
    if not entrypoint:
        return "none", "no Entrypoint"
    return "other", f"Entrypoint {shown}"


def check_kubeflow(config: ImageConfig, passwd_text: str | None) -> KubeflowReport:
    """Check ``config`` (and ``/etc/passwd`` from its layers, None when unread) against Kubeflow's
    image requirements."""
    passwd = parse_passwd(passwd_text) if passwd_text is not None else None
    ports = ", ".join(config.exposed_ports) or "none"
    port_ok = NOTEBOOK_PORT in config.exposed_ports or "8888" in config.exposed_ports
    shown_user = config.user or "(unset: root)"
    name, uid, entry = _resolve_user(config.user, passwd)
    where = "via /etc/passwd" if entry else ("/etc/passwd not read" if passwd is None else "not in /etc/passwd")
    user_evidence = f"User {shown_user} -> {name} uid {uid if uid is not None else '?'} ({where})"

    name_met: bool | None = name == NOTEBOOK_USER
    if not name_met and entry is None and name.isdigit() and passwd is None:
        name_met = None
    uid_met: bool | None = uid == NOTEBOOK_UID if uid is not None else None
    home_met: bool | None
    if entry is not None:
        home_met, home_evidence = entry.home == NOTEBOOK_HOME, f"{entry.name}'s home is {entry.home}"
    elif passwd is None:
        home_met, home_evidence = None, "/etc/passwd not read"
    else:
        home_met, home_evidence = False, f"user {name} has no /etc/passwd entry"
    init, init_evidence = _init_system(config)
    nb_prefix = "NB_PREFIX" in " ".join((*config.entrypoint, *config.cmd, *config.env.values()))
    requirements = (
        Requirement("port-8888", "exposes HTTP on port 8888", port_ok, f"ExposedPorts: {ports}"),
        Requirement("user-jovyan", "runs as user jovyan", name_met, user_evidence),
        Requirement("uid-1000", "runs as UID 1000", uid_met, user_evidence),
        Requirement("home-jovyan", "the user's home is /home/jovyan", home_met, home_evidence),
        Requirement(
            "init",
            "an init (s6-overlay or tini) reaps processes",
            True if init in ("s6-overlay", "tini") else None,
            f"{init}: {init_evidence}",
            required=False,
        ),
        Requirement(
            "nb-prefix",
            "serves under $NB_PREFIX",
            True if nb_prefix else None,
            "NB_PREFIX named in Entrypoint/Cmd/Env" if nb_prefix else "not visible in the config",
            required=False,
        ),
    )
    return KubeflowReport(requirements, init, name, uid)


def kubeflow_to_json(report: KubeflowReport) -> dict[str, Any]:
    """The ``kubeflow`` key of ``inspect --json``."""
    return {
        "ready": report.ready,
        "init": report.init_system,
        "user": report.user,
        "uid": report.uid,
        "requirements": [r.to_json() for r in report.requirements],
    }


async def image_kubeflow_report(session: Session, ref: AnyRef) -> KubeflowReport:
    """:func:`check_kubeflow` for ``ref`` on the session's platform, ``/etc/passwd`` read from its
    layers (streamed; an image without one is checked as such)."""
    from nbcatalog.packages.image import image_files

    image = await session.resolve(ref)
    files = await image_files(session, ref, ["/etc/passwd"])
    passwd = files.get("/etc/passwd")
    return check_kubeflow(image.config, passwd.decode("utf-8", "replace") if passwd is not None else "")
