"""``nbcatalog apply``: push an exported config to the cluster (kubeconfig or in-cluster).

Kubeflow: splice the exported image sections into the spawner_ui_config.yaml of the jupyter-web-app
ConfigMap the Deployment mounts (the cluster keeps its other settings). Notebooks 2.0: create or replace
WorkspaceKinds. JupyterHub: only print the values for helm, whose release owns the hub's config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from nbcatalog.cluster import JWA_NAMESPACE, SPAWNER_KEY, Change, ClusterOptions
from nbcatalog.errors import BadInputError
from nbcatalog.yamlio import check_yaml

FORMATS = ("kubeflow", "jupyterhub", "workspacekind")
HELM_NOTE = (
    "JupyterHub's configuration belongs to its helm release, so nbcatalog does not change the hub: pass "
    "these values to helm, e.g. `helm upgrade RELEASE jupyterhub/jupyterhub --namespace NS --reuse-values "
    "--values {path}`"
)


def add_cluster_arguments(parser: argparse.ArgumentParser, *, hub: bool = False) -> None:
    """How to reach the cluster; shared with ``audit --cluster`` (``hub``: where to look for the z2jh hub,
    which only the audit reads)."""
    group = parser.add_argument_group("cluster")
    group.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default $KUBECONFIG, ~/.kube/config)")
    group.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")
    group.add_argument(
        "--namespace", metavar="NS", default=JWA_NAMESPACE, help="the jupyter-web-app's namespace (default kubeflow)"
    )
    group.add_argument(
        "--configmap", metavar="NAME", help="the jupyter-web-app ConfigMap (default: the one its Deployment mounts)"
    )
    if hub:
        group.add_argument("--hub-namespace", metavar="NS", help="look for the z2jh hub only in this namespace")


def cluster_options(args: argparse.Namespace) -> ClusterOptions:
    return ClusterOptions(
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespace=args.namespace,
        configmap=args.configmap,
        hub_namespace=getattr(args, "hub_namespace", None),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, choices=FORMATS, dest="export_format")
    parser.add_argument(
        "--file",
        metavar="PATH",
        help="the exported file (default: where `nbcatalog export` writes it, profiles/ beside the catalog)",
    )
    parser.add_argument("--dry-run", action="store_true", help="show a unified diff of what would change")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_cluster_arguments(parser)


def _input_file(args: argparse.Namespace) -> Path:
    """``--file``, else where ``nbcatalog export`` writes the format: profiles/ beside the catalog."""
    if args.file:
        return Path(args.file)
    from nbcatalog.exporters.files import DEFAULT_PATHS

    path = Path(args.catalog).parent / DEFAULT_PATHS[args.export_format]
    if not path.is_file():
        raise BadInputError(
            f"no exported file at {path} (run `nbcatalog export --format {args.export_format}` or pass --file PATH)"
        )
    return path


def _documents(path: Path) -> tuple[str, list[Any]]:
    from nbcatalog.localfiles import read_text

    text = read_text(path, what="the exported file")
    check_yaml(text, str(path))
    try:
        return text, [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise BadInputError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", where=where) from None
    except RecursionError:  # hostile nesting such as [[[[...]]]]
        raise BadInputError("YAML nested too deeply", where=str(path)) from None


def spawner_text(path: Path) -> str:
    """The spawner_ui_config.yaml text, from the bare file or from a ConfigMap manifest holding it."""
    text, documents = _documents(path)
    if len(documents) == 1 and isinstance(documents[0], dict):
        document = documents[0]
        if document.get("kind") == "ConfigMap" and SPAWNER_KEY in (document.get("data") or {}):
            return str(document["data"][SPAWNER_KEY])
        if "spawnerFormDefaults" in document:
            return text
    raise BadInputError(
        f"not a Kubeflow {SPAWNER_KEY} (no spawnerFormDefaults) nor a ConfigMap holding one", where=str(path)
    )


def _apply(args: argparse.Namespace, path: Path) -> list[Change]:
    from nbcatalog.cluster import Cluster, apply_kubeflow, apply_workspacekind

    options = cluster_options(args)
    if args.export_format == "kubeflow":
        text = spawner_text(path)
        with Cluster.connect(options) as cluster:
            return [apply_kubeflow(cluster, text, str(path), options, args.dry_run)]
    _, documents = _documents(path)
    if not documents:
        raise BadInputError("no WorkspaceKind in the file", where=str(path))
    manifests = []
    for document in documents:
        if not isinstance(document, dict):
            raise BadInputError("a YAML document is not a mapping", where=str(path))
        manifests.append(document)
    with Cluster.connect(options) as cluster:
        return [apply_workspacekind(cluster, manifest, str(path), args.dry_run) for manifest in manifests]


def run(args: argparse.Namespace) -> int:
    from nbcatalog.cli.output import print_json
    from nbcatalog.safetext import safe_text

    path = _input_file(args)
    if args.export_format == "jupyterhub":
        text, _ = _documents(path)
        note = HELM_NOTE.format(path=path)
        if args.json:
            print_json({"format": "jupyterhub", "file": str(path), "dry_run": args.dry_run, "changes": [],
                        "warnings": [], "helm_values": text, "message": note})  # fmt: skip
        else:
            sys.stdout.write(safe_text(text, allow_newlines=True))
            print(f"nbcatalog: {safe_text(note)}", file=sys.stderr)
        return 0
    changes = _apply(args, path)
    warnings = [warning for change in changes for warning in change.warnings]
    for warning in warnings:
        print(f"nbcatalog: warning: {safe_text(warning)}", file=sys.stderr)
    if args.json:
        print_json({
            "format": args.export_format,
            "file": str(path),
            "dry_run": args.dry_run,
            "changes": [{"object": c.label, "action": c.action, "diff": c.diff, "note": c.note} for c in changes],
            "warnings": warnings,
        })  # fmt: skip
        return 0
    for change in changes:
        sys.stdout.write(safe_text(change.diff, allow_newlines=True))
        verb = f"would be {change.action}" if args.dry_run and change.action != "unchanged" else change.action
        note = f" ({change.note})" if change.note else ""
        print(f"nbcatalog: {safe_text(f'{change.label}: {verb}{note}')}", file=sys.stderr)
        if args.export_format == "kubeflow" and change.action == "patched" and not args.dry_run:
            print("nbcatalog: the jupyter-web-app re-reads spawner_ui_config.yaml within ~60 s", file=sys.stderr)
    return 0
