"""The connection to a Kubernetes cluster, its errors, and ``apply``; ``audit --cluster`` reads in clusteraudit.

The only module that imports the official ``kubernetes`` client (clusteraudit goes through :class:`Cluster`),
lazily, so ``nbcatalog --help`` and every other command never load it. Responses are read as plain JSON
(``_preload_content=False``): the code needs a few fields, not the client's models. API errors become
one-line ``ClusterError``s naming the object.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from nbcatalog.errors import BadInputError, ClusterError
from nbcatalog.refs import is_loopback_host

JWA_NAMESPACE = "kubeflow"
JWA_CONFIGMAP_PREFIX = "jupyter-web-app-config"
SPAWNER_KEY = "spawner_ui_config.yaml"
FIELD_MANAGER = "nbcatalog"
WORKSPACEKIND_API = ("kubeflow.org", "v1beta1", "workspacekinds")
REQUEST_TIMEOUT = (10.0, 60.0)  # connect, read (seconds): an unresponsive API server is an error, not a hang
SERVICEACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: Server-owned metadata left out of comparisons and audit text.
_SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")

JsonObject = dict[str, Any]
SourceKind = Literal["kubeflow", "workspacekind", "jupyterhub", "pod", "statefulset"]


class ClusterNotFoundError(ClusterError):
    """The object (or its API, e.g. a CRD that is not installed) does not exist."""


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach the cluster and where the Kubeflow jupyter-web-app keeps its config."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = JWA_NAMESPACE
    configmap: str | None = None
    hub_namespace: str | None = None
    serviceaccount_dir: Path = SERVICEACCOUNT_DIR


@dataclass(frozen=True)
class Change:
    """What ``apply`` did (or, with ``dry_run``, would do) to one object."""

    label: str
    action: Literal["patched", "created", "replaced", "unchanged"]
    diff: str
    note: str = ""
    warnings: tuple[str, ...] = ()


def object_label(kind: str, namespace: str | None, name: str) -> str:
    """``cluster:KIND/NAMESPACE/NAME``: how errors and audit findings name a cluster object."""
    return f"cluster:{kind}/{namespace}/{name}" if namespace else f"cluster:{kind}/{name}"


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class Cluster:
    """One API connection; every call returns JSON or raises a ``ClusterError`` naming the object."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.server: str = api_client.configuration.host
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    @classmethod
    def connect(cls, options: ClusterOptions) -> Cluster:
        """Kubeconfig (``--kubeconfig``/``--context``, else ``$KUBECONFIG`` or ``~/.kube/config``), or the
        pod's service account when running in a cluster and neither option was given."""
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import InClusterConfigLoader

        configuration = client.Configuration()
        in_cluster = "KUBERNETES_SERVICE_HOST" in os.environ and not (options.kubeconfig or options.context)
        try:
            if in_cluster:
                InClusterConfigLoader(  # type: ignore[no-untyped-call]
                    token_filename=str(options.serviceaccount_dir / "token"),
                    cert_filename=str(options.serviceaccount_dir / "ca.crt"),
                ).load_and_set(configuration)
            else:
                _check_kubeconfig(options.kubeconfig)
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=options.kubeconfig,
                    context=options.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (ConfigException, OSError, yaml.YAMLError) as exc:
            where = "in-cluster service account" if in_cluster else (options.kubeconfig or "kubeconfig")
            raise BadInputError(f"cannot load the cluster configuration: {exc}", where=where) from None
        if is_loopback_host(urlsplit(configuration.host).hostname or ""):
            configuration.proxy = None  # as kubectl: a loopback API server is never reached via a proxy
        return cls(client.ApiClient(configuration))

    def close(self) -> None:
        self.api_client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, label: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> JsonObject:
        """Run one API call for the object ``label``; translate every failure into a ClusterError."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
            response = method(*args, _preload_content=False, **kwargs)
            document: JsonObject = json.loads(response.data)
            return document
        except ApiException as exc:
            raise _api_error(exc, label) from None
        except (HTTPError, OSError) as exc:
            raise ClusterError(f"cannot reach the Kubernetes API at {self.server}: {exc}", where=label) from None
        except ValueError:
            raise ClusterError("the Kubernetes API answered with something that is not JSON", where=label) from None


def _api_error(exc: Any, label: str) -> ClusterError:
    """One line from the API's Status: what was refused and why, never the response body."""
    try:
        message = str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        message = str(exc.reason)
    status = exc.status
    if status == 404:
        return ClusterNotFoundError(f"not found ({message})", where=label)
    if status == 409:
        return ClusterError(
            f"conflict: {message} — it changed since nbcatalog read it; run the command again", where=label
        )
    if status == 403:
        return ClusterError(f"forbidden: {message} (check the RBAC of the user or service account)", where=label)
    if status == 401:
        return ClusterError("the API server refused the credentials (401 Unauthorized)", where=label)
    return ClusterError(f"the API server answered {status}: {message}", where=label)


# -- Kubeflow: the jupyter-web-app ConfigMap --


@dataclass(frozen=True)
class ConfigMapTarget:
    namespace: str
    name: str
    text: str
    resource_version: str
    mounted_by: str | None

    @property
    def label(self) -> str:
        return object_label("configmap", self.namespace, self.name)


def _mounted_configmaps(deployment: JsonObject) -> Iterator[str]:
    volumes = ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("volumes") or []
    for volume in volumes:
        if (volume.get("configMap") or {}).get("name"):
            yield volume["configMap"]["name"]
        for source in (volume.get("projected") or {}).get("sources") or []:
            if (source.get("configMap") or {}).get("name"):
                yield source["configMap"]["name"]


def find_jwa_configmap(cluster: Cluster, options: ClusterOptions) -> ConfigMapTarget:
    """The ConfigMap the jupyter-web-app Deployment actually mounts: kustomize's configMapGenerator adds
    a hash suffix, and edits to any other ``jupyter-web-app-config-*`` have no effect
    (kubeflow/manifests#2526, #2927). ``options.configmap`` names it outright."""
    namespace, name, mounted_by = options.namespace, options.configmap, None
    if name is None:
        listing = cluster.call(
            object_label("deployments", None, namespace), cluster.apps.list_namespaced_deployment, namespace
        )
        for deployment in listing.get("items", []):
            mounted = [n for n in _mounted_configmaps(deployment) if n.startswith(JWA_CONFIGMAP_PREFIX)]
            if mounted:
                name, mounted_by = mounted[0], f"deployment/{namespace}/{deployment['metadata']['name']}"
                break
    if name is None:
        listing = cluster.call(
            object_label("configmaps", None, namespace), cluster.core.list_namespaced_config_map, namespace
        )
        names = [
            item["metadata"]["name"]
            for item in listing.get("items", [])
            if item["metadata"]["name"].startswith(JWA_CONFIGMAP_PREFIX)
        ]
        if len(names) != 1:
            found = ", ".join(names) or "none"
            raise ClusterNotFoundError(
                f"no Deployment in {namespace!r} mounts a {JWA_CONFIGMAP_PREFIX}* ConfigMap and there is not "
                f"exactly one to choose (found: {found}); pass --configmap NAME",
                where=object_label("configmaps", None, namespace),
            )
        name = names[0]
    label = object_label("configmap", namespace, name)
    configmap = cluster.call(label, cluster.core.read_namespaced_config_map, name, namespace)
    data = configmap.get("data") or {}
    if SPAWNER_KEY not in data:
        raise ClusterError(f"the ConfigMap has no {SPAWNER_KEY!r} key", where=label)
    return ConfigMapTarget(namespace, name, data[SPAWNER_KEY], configmap["metadata"]["resourceVersion"], mounted_by)


def apply_kubeflow(cluster: Cluster, text: str, source: str, options: ClusterOptions, dry_run: bool) -> Change:
    """Splice the exported file's image sections into the live ConfigMap's spawner_ui_config.yaml.

    Exactly the merge ``export --base`` does (:func:`nbcatalog.exporters.kubeflow.splice_exported`):
    the image sections and the three booleans come from ``text``, and everything else the cluster has
    (cpu, memory, volumes, GPU vendors, affinity and toleration groups, comments) stays byte for byte.
    Replacing the whole key would make the cluster's own settings the template's. The patch carries
    the resourceVersion read, so a concurrent edit is a 409, never overwritten; the jupyter-web-app
    re-reads the file within ~60 s.
    """
    from nbcatalog.errors import CatalogError
    from nbcatalog.exporters.kubeflow import splice_exported

    target = find_jwa_configmap(cluster, options)
    note = f"mounted by {target.mounted_by}" if target.mounted_by else "named explicitly or the only candidate"
    live_source = f"{target.label} ({SPAWNER_KEY})"
    try:
        merged, warnings = splice_exported(target.text, text, live_source=live_source, source=source)
    except CatalogError as exc:
        raise ClusterError(str(exc)) from None
    diff = unified_diff(target.text, merged, live_source, source)
    if not diff:
        return Change(target.label, "unchanged", "", note, tuple(warnings))
    if not dry_run:
        body = {"metadata": {"resourceVersion": target.resource_version}, "data": {SPAWNER_KEY: merged}}
        cluster.call(
            target.label,
            cluster.core.patch_namespaced_config_map,
            target.name,
            target.namespace,
            body,
            field_manager=FIELD_MANAGER,
            _content_type="application/strategic-merge-patch+json",
        )
    return Change(target.label, "patched", diff, note, tuple(warnings))


# -- Kubeflow Notebooks 2.0: WorkspaceKinds --


def comparable_yaml(obj: JsonObject) -> str:
    """The object as YAML without what the server owns (status, resourceVersion, managedFields...)."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    annotations = {
        k: v
        for k, v in (metadata.get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    view = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": metadata}
    view.update({k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")})
    return yaml.safe_dump(view, sort_keys=True, default_flow_style=False)


def apply_workspacekind(cluster: Cluster, manifest: JsonObject, source: str, dry_run: bool) -> Change:
    """Create the WorkspaceKind, or replace it with the resourceVersion just read (a concurrent
    change is a 409, never overwritten). Its admission webhook may still refuse a removed option."""
    group, version, plural = WORKSPACEKIND_API
    if manifest.get("apiVersion") != f"{group}/{version}" or manifest.get("kind") != "WorkspaceKind":
        raise BadInputError(f"not a {group}/{version} WorkspaceKind", where=source)
    name = (manifest.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise BadInputError("the WorkspaceKind has no metadata.name", where=source)
    label = object_label("workspacekind", None, name)
    try:
        existing: JsonObject | None = cluster.call(
            label, cluster.custom.get_cluster_custom_object, group, version, plural, name
        )
    except ClusterNotFoundError:
        existing = None
    new_text = comparable_yaml(manifest)
    diff = unified_diff(comparable_yaml(existing) if existing else "", new_text, label, source)
    if existing is not None and not diff:
        return Change(label, "unchanged", "")
    if dry_run:
        return Change(label, "created" if existing is None else "replaced", diff)
    custom = cluster.custom
    if existing is None:
        create = custom.create_cluster_custom_object
        cluster.call(label, create, group, version, plural, manifest, field_manager=FIELD_MANAGER)
        return Change(label, "created", diff)
    body = json.loads(json.dumps(manifest))
    body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
    replace = custom.replace_cluster_custom_object
    cluster.call(label, replace, group, version, plural, name, body, field_manager=FIELD_MANAGER)
    return Change(label, "replaced", diff)


def _check_kubeconfig(named: str | None) -> None:
    """The kubeconfig files the client is about to read, read first as any user file is: regular,
    within ``file-bytes``, no alias bomb (the client's own loader reads whole and expands aliases).

    ``named`` (``--kubeconfig``), else each file of ``$KUBECONFIG``, else ``~/.kube/config``; a file
    that is not there is left to the client, which says so in its own words.
    """
    from nbcatalog.localfiles import read_text_if_exists
    from nbcatalog.yamlio import check_yaml

    if named:
        paths = [named]
    elif os.environ.get("KUBECONFIG"):
        paths = [p for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    else:
        paths = [os.path.expanduser("~/.kube/config")]
    for path in paths:
        text = read_text_if_exists(path, what="the kubeconfig")
        if text is not None:
            check_yaml(text, path)
