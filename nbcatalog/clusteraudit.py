"""``audit --cluster``: the live configs and notebook images, as text the profile readers accept.

Sources are found the way the cluster finds them (what the jupyter-web-app and hub Deployments mount,
the WorkspaceKinds, running notebook pods). The z2jh hub Secret is reduced to its single-user profile
data before anything else sees it: the rest of it holds the hub's real secrets.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import yaml

from nbcatalog.cluster import (
    WORKSPACEKIND_API,
    Cluster,
    ClusterNotFoundError,
    ClusterOptions,
    JsonObject,
    comparable_yaml,
    find_jwa_configmap,
    object_label,
)
from nbcatalog.errors import BadInputError, ClusterError
from nbcatalog.yamlio import YamlLimitError, check_yaml

if TYPE_CHECKING:
    from nbcatalog.profilefiles.model import ProfileRead

SourceKind = Literal["kubeflow", "workspacekind", "jupyterhub", "pod", "statefulset"]


@dataclass(frozen=True)
class ClusterSource:
    """One config read from the cluster, in the text form the file readers (profilefiles) accept.

    ``kind`` picks the reader: ``kubeflow`` (spawner_ui_config.yaml), ``workspacekind`` (the object as
    YAML), ``jupyterhub`` (z2jh values holding only ``singleuser`` profile data), ``pod`` and
    ``statefulset`` (the notebook container's image, one reference per line).
    """

    label: str
    kind: SourceKind
    text: str


#: kubespawner_override keys whose values the audit needs (images and scheduling). Every other key keeps
#: its name (ignored-key findings need it) but its value is replaced: overrides may carry environment
#: secrets.
_OVERRIDE_KEYS = {
    "image",
    "image_pull_policy",
    "node_selector",
    "tolerations",
    "extra_resource_limits",
    "extra_resource_guarantees",
    "node_affinity_required",
    "node_affinity_preferred",
    "cpu_limit",
    "cpu_guarantee",
    "mem_limit",
    "mem_guarantee",
    "nodeSelector",
    "extraResource",
    "extra_tolerations",
    "extraTolerations",
}
_PROFILE_KEYS = {"display_name", "slug", "description", "default", "enabled", "display_name_in_choices"}
_PROFILE_KEYS |= {"validation_regex", "validation_message"}
REDACTED = "<redacted by nbcatalog>"
HUB_VALUES_KEY = "values.yaml"


def _override(value: Any) -> Any:
    if not isinstance(value, dict):
        return REDACTED
    return {k: (v if k in _OVERRIDE_KEYS else REDACTED) for k, v in value.items()}


def _profile(value: Any) -> Any:
    """A profile, option or choice with only display, image and scheduling data."""
    if not isinstance(value, dict):
        return REDACTED
    kept: JsonObject = {}
    for key, item in value.items():
        if key in _PROFILE_KEYS and not isinstance(item, (dict, list)):
            kept[key] = item
        elif key == "kubespawner_override":
            kept[key] = _override(item)
        elif key in ("profile_options", "choices") and isinstance(item, dict):
            kept[key] = {name: _profile(option) for name, option in item.items()}
        elif key == "unlisted_choice":
            kept[key] = _profile(item)
    return kept


def singleuser_profiles(values: Any) -> JsonObject:
    """From a z2jh values document (the hub Secret's ``values.yaml``) only ``singleuser``'s image,
    profileList and scheduling keys: the rest of that document holds the hub's real secrets."""
    singleuser = values.get("singleuser") if isinstance(values, dict) else None
    if not isinstance(singleuser, dict):
        return {}
    kept: JsonObject = {}
    image = singleuser.get("image")
    if isinstance(image, dict):
        kept["image"] = {k: image[k] for k in ("name", "tag", "pullPolicy") if k in image}
    for key in ("nodeSelector", "extraTolerations", "extraResource"):
        if key in singleuser:
            kept[key] = singleuser[key]
    profiles = singleuser.get("profileList")
    if isinstance(profiles, list):
        kept["profileList"] = [_profile(profile) for profile in profiles]
    elif isinstance(profiles, dict):
        kept["profileList"] = {name: _profile(profile) for name, profile in profiles.items()}
    return {"singleuser": kept} if kept else {}


def _hub_values(obj: JsonObject, label: str, encoded: bool) -> ClusterSource | None:
    raw = (obj.get("data") or {}).get(HUB_VALUES_KEY)
    if not isinstance(raw, str):
        return None
    try:
        text = base64.b64decode(raw).decode() if encoded else raw
        check_yaml(text, label)
        values = yaml.safe_load(text)
    except YamlLimitError as exc:  # says where and which limit, quoting nothing of the document
        raise ClusterError(f"the {HUB_VALUES_KEY!r} key: {exc.message}", where=exc.where) from None
    except (ValueError, RecursionError, yaml.YAMLError, BadInputError):
        # the parser's message quotes the document, which holds secrets: say only where
        raise ClusterError(f"the {HUB_VALUES_KEY!r} key is not valid YAML", where=label) from None
    profiles = singleuser_profiles(values)
    if not profiles:
        return None
    return ClusterSource(label, "jupyterhub", yaml.safe_dump(profiles, sort_keys=False))


def _hub_deployments(cluster: Cluster, options: ClusterOptions) -> list[JsonObject]:
    found: dict[str, JsonObject] = {}
    call: Callable[..., Any]
    args: tuple[str, ...]
    for selector in ("component=hub,app=jupyterhub", "app.kubernetes.io/component=hub"):
        if options.hub_namespace:
            call, args = cluster.apps.list_namespaced_deployment, (options.hub_namespace,)
        else:
            call, args = cluster.apps.list_deployment_for_all_namespaces, ()
        label = object_label("deployments", options.hub_namespace, f"?labelSelector={selector}")
        for item in cluster.call(label, call, *args, label_selector=selector).get("items", []):
            found[item["metadata"].get("uid") or item["metadata"]["name"]] = item
    return list(found.values())


def _hub_sources(cluster: Cluster, options: ClusterOptions, problems: list[str]) -> Iterator[ClusterSource]:
    """The z2jh hub's stored values, found through what the hub Deployment mounts: Secret ``hub`` or
    ``<release>-hub`` (older charts: Secret ``hub-secret`` and ConfigMap ``hub-config``)."""
    for deployment in _hub_deployments(cluster, options):
        namespace = deployment["metadata"]["namespace"]
        volumes = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []
        for volume in volumes:
            secret = (volume.get("secret") or {}).get("secretName")
            configmap = (volume.get("configMap") or {}).get("name")
            try:
                if secret:
                    label = object_label("secret", namespace, secret)
                    obj = cluster.call(label, cluster.core.read_namespaced_secret, secret, namespace)
                    source = _hub_values(obj, label, encoded=True)
                    del obj  # the rest of the Secret is never kept
                elif configmap:
                    label = object_label("configmap", namespace, configmap)
                    obj = cluster.call(label, cluster.core.read_namespaced_config_map, configmap, namespace)
                    source = _hub_values(obj, label, encoded=False)
                else:
                    continue
            except ClusterNotFoundError:
                continue
            except ClusterError as exc:
                problems.append(str(exc))
                continue
            if source is not None:
                yield source


def _notebook_image(pod_spec: JsonObject, notebook: str | None) -> str | None:
    """The notebook container's image, not injected sidecars (istio-proxy): Kubeflow names the
    container after the notebook, z2jh calls it ``notebook``; else the first container."""
    containers = [c for c in pod_spec.get("containers") or [] if c.get("image")]
    named = [c for c in containers if c.get("name") in (notebook, "notebook")]
    chosen = (named or containers)[:1]
    return str(chosen[0]["image"]) if chosen else None


def _workload_sources(cluster: Cluster) -> Iterator[ClusterSource]:
    """Images of running notebook pods (Kubeflow ``notebook-name``, z2jh ``component=singleuser-server``)
    and of the StatefulSets Kubeflow's Notebook controller owns."""
    seen: set[str] = set()
    for selector in ("notebook-name", "component=singleuser-server"):
        label = object_label("pods", None, f"?labelSelector={selector}")
        listing = cluster.call(label, cluster.core.list_pod_for_all_namespaces, label_selector=selector)
        for pod in listing.get("items", []):
            meta = pod["metadata"]
            image = _notebook_image(pod.get("spec") or {}, (meta.get("labels") or {}).get("notebook-name"))
            pod_label = object_label("pod", meta.get("namespace"), meta["name"])
            if image and pod_label not in seen:
                seen.add(pod_label)
                yield ClusterSource(pod_label, "pod", image + "\n")
    label = object_label("statefulsets", None, "")
    listing = cluster.call(label, cluster.apps.list_stateful_set_for_all_namespaces)
    for statefulset in listing.get("items", []):
        meta, template = statefulset["metadata"], statefulset.get("spec", {}).get("template", {})
        owned = any(ref.get("kind") == "Notebook" for ref in meta.get("ownerReferences") or [])
        notebook = (template.get("metadata", {}).get("labels") or {}).get("notebook-name")
        if owned or notebook:
            image = _notebook_image(template.get("spec") or {}, notebook or meta["name"])
            if image:
                set_label = object_label("statefulset", meta.get("namespace"), meta["name"])
                yield ClusterSource(set_label, "statefulset", image + "\n")


def _kubeflow_sources(cluster: Cluster, options: ClusterOptions) -> Iterator[ClusterSource]:
    target = find_jwa_configmap(cluster, options)
    yield ClusterSource(target.label, "kubeflow", target.text)


def _workspacekind_sources(cluster: Cluster) -> Iterator[ClusterSource]:
    group, version, plural = WORKSPACEKIND_API
    label = object_label("workspacekinds", None, "")
    listing = cluster.call(label, cluster.custom.list_cluster_custom_object, group, version, plural)
    for item in listing.get("items", []):
        item.setdefault("apiVersion", f"{group}/{version}")
        item.setdefault("kind", "WorkspaceKind")
        yield ClusterSource(
            object_label("workspacekind", None, item["metadata"]["name"]), "workspacekind", comparable_yaml(item)
        )


@dataclass(frozen=True)
class ClusterReadout:
    """What ``audit --cluster`` audits, plus one line per source that could not be read (403, ...).
    Absent sources (no Kubeflow, no hub, no WorkspaceKind CRD) are not problems."""

    sources: list[ClusterSource]
    problems: list[str]


def read_cluster_sources(cluster: Cluster, options: ClusterOptions) -> ClusterReadout:
    problems: list[str] = []
    readers: list[Callable[[], Iterator[ClusterSource]]] = [
        lambda: _kubeflow_sources(cluster, options),
        lambda: _workspacekind_sources(cluster),
        lambda: _hub_sources(cluster, options, problems),
        lambda: _workload_sources(cluster),
    ]
    sources: list[ClusterSource] = []
    for reader in readers:
        try:
            sources.extend(reader())
        except ClusterNotFoundError:
            continue
        except ClusterError as exc:
            problems.append(str(exc))
    return ClusterReadout(sources, problems)


def read_cluster_profiles(options: ClusterOptions) -> tuple[ProfileRead, list[str]]:
    """``audit --cluster``: every image reference the live cluster's configs and notebooks use, read by
    the same readers as files (with what they could not read, which audit reports like a file's), and
    one line per source that could not be read at all."""
    from nbcatalog.profilefiles.model import ProfileRead
    from nbcatalog.profilefiles.reader import read_text

    with Cluster.connect(options) as cluster:
        readout = read_cluster_sources(cluster, options)
    read = ProfileRead()
    problems = list(readout.problems)
    for source in readout.sources:
        try:
            read.extend(read_text(source.text, source.label, kind=source.kind))
        except BadInputError as exc:
            problems.append(str(exc))
    return read, problems
