"""Kubeflow notebook image requirements from configs shaped like Kubeflow's and docker-stacks' images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbcatalog import ocibuild as b
from nbcatalog.kubeflowreq import check_kubeflow, image_kubeflow_report, kubeflow_to_json, parse_passwd
from nbcatalog.oci import ImageConfig
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions
from tests.support.images import StandardImages, base_image
from tests.support.registry import Pusher, RegistryServer

#: Debian's master passwd (base-passwd): what a fresh Debian/Ubuntu image starts with.
DEBIAN_PASSWD = Path("/usr/share/base-passwd/passwd.master").read_text()
JOVYAN_PASSWD = DEBIAN_PASSWD + "jovyan:x:1000:100::/home/jovyan:/bin/bash\n"


def config(**container: Any) -> ImageConfig:
    doc = {"architecture": "amd64", "os": "linux", "config": container, "rootfs": {"diff_ids": []}}
    return ImageConfig.parse(json.dumps(doc).encode(), digest="sha256:" + "0" * 64)


def by_key(report: Any) -> dict[str, bool | None]:
    return {r.key: r.met for r in report.requirements}


def test_kubeflow_s6_image_meets_everything() -> None:
    cfg = config(
        User="1000",
        ExposedPorts={"8888/tcp": {}},
        Entrypoint=["/init"],
        Env=["NB_USER=jovyan", "S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0"],
    )
    report = check_kubeflow(cfg, JOVYAN_PASSWD)
    assert report.init_system == "s6-overlay"
    assert report.user == "jovyan" and report.uid == 1000
    assert by_key(report) == {
        "port-8888": True,
        "user-jovyan": True,
        "uid-1000": True,
        "home-jovyan": True,
        "init": True,
        "nb-prefix": None,
    }
    assert report.ready is True
    doc = kubeflow_to_json(report)
    assert doc["ready"] is True and doc["init"] == "s6-overlay" and len(doc["requirements"]) == 6


def test_docker_stacks_image_uses_tini() -> None:
    cfg = config(
        User="1000",
        ExposedPorts={"8888/tcp": {}},
        Entrypoint=["tini", "-g", "--", "start.sh"],
        Cmd=["start-notebook.py"],
    )
    report = check_kubeflow(cfg, JOVYAN_PASSWD)
    assert report.init_system == "tini"
    assert report.ready is True


def test_root_image_without_port_fails_with_evidence() -> None:
    cfg = config(Cmd=["bash"])
    report = check_kubeflow(cfg, DEBIAN_PASSWD)
    assert report.ready is False
    failed = {r.key: r.evidence for r in report.failures}
    assert set(failed) == {"port-8888", "user-jovyan", "uid-1000", "home-jovyan"}
    assert "ExposedPorts: none" in failed["port-8888"]
    assert "root uid 0" in failed["user-jovyan"]
    assert report.init_system == "none"


def test_named_user_with_wrong_uid_and_home() -> None:
    passwd = DEBIAN_PASSWD + "jovyan:x:1001:100::/home/other:/bin/bash\n"
    report = check_kubeflow(config(User="jovyan:users", ExposedPorts={"8888/tcp": {}}), passwd)
    assert by_key(report)["user-jovyan"] is True
    assert by_key(report)["uid-1000"] is False
    assert by_key(report)["home-jovyan"] is False


def test_without_passwd_numeric_user_is_undecided_not_failed() -> None:
    report = check_kubeflow(config(User="1000", ExposedPorts={"8888/tcp": {}}), None)
    assert by_key(report)["uid-1000"] is True
    assert by_key(report)["user-jovyan"] is None
    assert by_key(report)["home-jovyan"] is None
    assert report.ready is None


def test_uid_missing_from_passwd_fails_home() -> None:
    report = check_kubeflow(config(User="1000"), DEBIAN_PASSWD)
    assert by_key(report)["home-jovyan"] is False
    assert by_key(report)["user-jovyan"] is False


def test_parse_passwd_reads_debian_master_and_skips_garbage() -> None:
    entries = parse_passwd(DEBIAN_PASSWD + "broken line\nx:y:notanumber:1:::\n")
    assert entries[0].name == "root" and entries[0].uid == 0 and entries[0].home == "/root"
    assert len(entries) == len([line for line in DEBIAN_PASSWD.splitlines() if line.count(":") >= 6])


# -- images in the real registry: /etc/passwd read from their layers ---------------------------------


async def report_of(ref: str, tmp_path: Path) -> Any:
    async with Session(SessionOptions(cache_dir=tmp_path / "cache")) as session:
        return await image_kubeflow_report(session, parse_reference(ref))


async def test_registry_notebook_image_is_ready(test_images: StandardImages, tmp_path: Path) -> None:
    report = await report_of(test_images.layered_ref, tmp_path)  # USER jovyan, EXPOSE 8888, jovyan in passwd
    assert report.ready is True
    assert report.uid == 1000
    assert "via /etc/passwd" in next(r.evidence for r in report.requirements if r.key == "uid-1000")


async def test_registry_plain_image_fails(test_images: StandardImages, tmp_path: Path) -> None:
    report = await report_of(test_images.docker_ref, tmp_path)  # no USER, no ports, no /etc/passwd
    assert report.ready is False
    assert {r.key for r in report.failures} == {"port-8888", "user-jovyan", "uid-1000", "home-jovyan"}


async def test_registry_s6_image_with_uid_from_later_layer(
    registry: RegistryServer, pusher: Pusher, tmp_path: Path
) -> None:
    """The passwd entry comes from a later layer than the base's, as ``useradd`` in a Dockerfile makes it."""
    os_image = base_image()
    users = b.build_layer([b.file("etc/passwd", DEBIAN_PASSWD + "jovyan:x:1000:100::/home/jovyan:/bin/bash\n")])
    image = b.build_image(
        [users], base=os_image, user="1000", exposed_ports=["8888"], entrypoint=["/init"], env={"NB_USER": "jovyan"}
    )
    pusher.push("kubeflowreq/s6", image, ["v1"])
    report = await report_of(f"{registry.host}/kubeflowreq/s6:v1", tmp_path)
    assert report.init_system == "s6-overlay"
    assert report.ready is True and report.user == "jovyan"
    doc = kubeflow_to_json(report)
    assert json.loads(json.dumps(doc)) == doc
