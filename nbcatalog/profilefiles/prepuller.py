"""Image pre-puller DaemonSets (``nbcatalog export --format prepuller``, z2jh's image-puller): their init containers.

Each init container of such a DaemonSet exists only to make its node pull one image, so each is a
reference to audit like a spawner option: a stale or mutable tag there is a stale pre-pull, and
``audit --fix`` rewrites it with the rest. The ``containers`` (a ``pause`` image that keeps the pod
alive) are machinery, not a notebook image, and are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbcatalog.profilefiles.model import ProfileImage, Scheduling, string_map
from nbcatalog.profilefiles.yamlpos import record_at, value_pos


def read_prepuller(document: Mapping[str, Any], path: str, lines: list[str]) -> list[ProfileImage]:
    name = (document.get("metadata") or {}).get("name", "?")
    pod = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
    if not isinstance(pod, Mapping):
        return []
    scheduling = Scheduling(
        node_selector=string_map(pod.get("nodeSelector")), tolerations=tuple(pod.get("tolerations") or ())
    )
    records: list[ProfileImage] = []
    for index, container in enumerate(pod.get("initContainers") or []):
        if not isinstance(container, Mapping) or not isinstance(container.get("image"), str):
            continue
        # ends in the list index, so the pre-write check sees one image pulled twice in a DaemonSet
        context = f"DaemonSet {name} initContainers[{index}]"
        pos = value_pos(container, "image")
        records.append(record_at(path, lines, container["image"], pos, "prepuller", context, scheduling=scheduling))
    return records
