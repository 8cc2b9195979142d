"""``nbcatalog audit [PATH ...]``: stale, missing and mutable tags and badly scheduled GPU images.

Exit code 1 when a finding is at or above ``--fail-on`` (default ``warning``): CI fails on it.
``--fix`` writes newer tags over stale ones and a tag's current digest over a pin it moved from
(only that text); ``--dry-run`` shows the diff instead.
``--offline`` opens no connection at all (no session, no cache, no cluster): it reports what the files
alone show, fast enough for a pre-commit hook and usable in air-gapped CI.

A directory is walked the way linters walk a tree: every profile file in it is audited and the others
are listed on stderr as skipped, with why; only a file named explicitly that is broken is exit 2.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbcatalog.errors import EXIT_FAILED, EXIT_OK, BadInputError

if TYPE_CHECKING:
    from nbcatalog.policy import Policy

FORMATS = ("table", "json", "github", "prometheus")
SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "blue"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nbcatalog.cli.apply import add_cluster_arguments

    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="profile files or directories (default: the catalog and its profiles/)",
    )
    parser.add_argument("--cluster", action="store_true", help="also audit the live cluster's profiles and notebooks")
    parser.add_argument(
        "--offline", action="store_true",
        help="no network at all: only the findings the files alone show (pre-commit, air-gapped CI)",
    )  # fmt: skip
    parser.add_argument("--fail-on", choices=("info", "warning", "error", "none"), default="warning")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--format", choices=FORMATS, dest="output_format", help="output format (default table)")
    parser.add_argument("--fix", action="store_true", help="rewrite stale tags and re-pin moved digests in the files")
    parser.add_argument("--dry-run", action="store_true", help="with --fix: print the diff, change nothing")
    parser.add_argument("--allow-prerelease", action="store_true", help="rc/alpha/beta tags count as newer")
    parser.add_argument("--within", choices=("any", "major", "minor"), default="any", help="limit updates")
    parser.add_argument("--tags-only", action="store_true", help="do not read image configs (no GPU/Kubeflow facts)")
    parser.add_argument(
        "--lineage", action=argparse.BooleanOptionalAction, default=None,
        help="find stale bases of the catalog's images (default: on with a catalog, off with --tags-only)",
    )  # fmt: skip
    add_cluster_arguments(parser, hub=True)


def _inputs(args: argparse.Namespace) -> tuple[list[Path], Path | None]:
    # a catalog path with something there is read (a FIFO or a device is refused by the reader, by name)
    catalog = Path(args.catalog) if args.catalog and os.path.lexists(args.catalog) else None
    if args.paths:
        return [Path(p) for p in args.paths], catalog
    # profiles/ beside the catalog, where `nbcatalog export` writes them
    profiles = (catalog.parent if catalog else Path(".")) / "profiles"
    paths = [p for p in (catalog, profiles) if p is not None and p.exists()]
    if not paths and not args.cluster:
        raise BadInputError("nothing to audit: no catalog.yaml, no profiles/ and no PATH given")
    return paths, catalog


def _check_usage(args: argparse.Namespace) -> str:
    """Options that would be ignored, or contradict each other, are bad usage; returns the output format."""
    if args.lineage and not (args.catalog and os.path.lexists(args.catalog)):
        raise BadInputError("--lineage needs the catalog", where=str(args.catalog))
    if args.lineage and args.tags_only:
        raise BadInputError("--lineage reads image configs, which --tags-only skips", where="--lineage")
    if args.dry_run and not args.fix:
        raise BadInputError("--dry-run goes with --fix", where="--dry-run")
    if args.offline:
        needs_network = {"--cluster": args.cluster, "--fix": args.fix, "--lineage": args.lineage,
                         "--tags-only": args.tags_only}  # fmt: skip
        for option, value in needs_network.items():
            if value:
                raise BadInputError(f"{option} needs the network, which --offline rules out", where="--offline")
    cluster_only = {"--kubeconfig": args.kubeconfig, "--context": args.context, "--configmap": args.configmap,
                    "--hub-namespace": args.hub_namespace}  # fmt: skip
    for option, value in cluster_only.items():
        if value is not None and not args.cluster:
            raise BadInputError(f"{option} goes with --cluster", where=option)
    from nbcatalog.cli.common import output_format

    return output_format(args.json, args.output_format, "table")


def run(args: argparse.Namespace) -> int:
    from nbcatalog.audit import AuditOptions, FactSource, LineageFacts, NoFacts, RegistryView, audit, collect, failed
    from nbcatalog.cli.common import run_with_session
    from nbcatalog.profilefiles import read_profile_file
    from nbcatalog.profilefiles.reader import read_profiles
    from nbcatalog.safetext import safe_text
    from nbcatalog.tagfamilies import UpdateOptions

    output = _check_usage(args)
    paths, catalog_path = _inputs(args)
    read = read_profiles(paths)
    records = read.records
    for skipped in read.skipped:
        print(f"nbcatalog: skipped {safe_text(skipped.path)}: {safe_text(skipped.reason)}", file=sys.stderr)
    catalog = read_profile_file(catalog_path) if catalog_path else []
    from nbcatalog.catalog import load_catalog

    for catalog_file in dict.fromkeys(r.path for r in [*records, *catalog] if r.kind == "catalog"):
        load_catalog(catalog_file)  # a broken catalog is bad input (exit 2 with file:line), not findings
    policy = _policy(catalog_path, catalog)
    if args.cluster:
        from nbcatalog.cli.apply import cluster_options
        from nbcatalog.clusteraudit import read_cluster_profiles

        live, problems = read_cluster_profiles(cluster_options(args))
        read.extend(live)
        for problem in problems:
            print(f"nbcatalog: warning: {safe_text(problem)}", file=sys.stderr)

    async def work(session: Any) -> Any:
        facts: FactSource | None = NoFacts() if args.tags_only else None
        if args.lineage is not False and catalog_path is not None and not args.tags_only:
            facts = LineageFacts(catalog_path)  # stale-base: the catalog's images on older parent tags
        return await collect(session, records, fact_source=facts, cache_dir=session.options.cache_dir)

    view = RegistryView(offline=True) if args.offline else run_with_session(args, work)
    options = AuditOptions(UpdateOptions(args.allow_prerelease, args.within))
    findings = audit(records, view, catalog=catalog, options=options, unread=read.unread, policy=policy)
    fixed: list[dict[str, Any]] | None = None
    if args.fix:
        findings, fixed = _fix(findings, dry_run=args.dry_run, output=output)
    _print(findings, output, fixed, read)
    return EXIT_FAILED if failed(findings, args.fail_on) else EXIT_OK


def _policy(catalog_path: Path | None, catalog: Sequence[Any]) -> Policy:
    """The catalog's ``policy:``, which judges every audited record (an empty catalog's too); a
    ``--catalog`` that is some other profile file has none."""
    from nbcatalog.catalog import load_catalog
    from nbcatalog.policy import Policy

    if catalog_path is None or any(record.kind != "catalog" for record in catalog):
        return Policy()
    return load_catalog(catalog_path).policy


def _fix(findings: list[Any], *, dry_run: bool, output: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """Write (or, dry run, diff) the stale-tag fixes and re-pins; the findings left and what changed."""
    from nbcatalog.audit import fixes
    from nbcatalog.audit.rules import is_fix
    from nbcatalog.profilefiles import rewrite_tags
    from nbcatalog.safetext import safe_text

    report = sys.stdout if output == "table" else sys.stderr  # machine formats keep stdout to themselves
    fixed: list[dict[str, Any]] = []
    for path, edits in fixes(findings).items():
        before, after = rewrite_tags(path, edits, write=not dry_run)
        if dry_run:
            lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
            diff = difflib.unified_diff(*lines, f"a/{path}", f"b/{path}")
            report.writelines(safe_text(line, allow_newlines=True) for line in diff)
        for (line, col), (old, new) in sorted(edits.items()):
            fixed.append({"path": path, "line": line, "column": col, "from": old, "to": new})
            if not dry_run and output != "json":
                print(safe_text(f"fixed {path}:{line}:{col}: {old} -> {new}"), file=report)
    if dry_run:
        return findings, fixed
    done = {(f["path"], f["line"], f["column"]) for f in fixed}
    return [f for f in findings if not (is_fix(f) and f.fix and (f.path, *f.fix) in done)], fixed


def _print(findings: Sequence[Any], output: str, fixed: list[dict[str, Any]] | None, read: Any) -> None:
    from nbcatalog.audit.coverage import references
    from nbcatalog.cli.output import print_json

    if output == "json":
        document: dict[str, Any] = {"findings": [f.to_json() for f in findings]}
        if fixed is not None:
            document["fixed"] = fixed
        document["references"] = references(read.records)
        document["files"] = list(dict.fromkeys(read.files))
        document["skipped"] = [{"path": s.path, "reason": s.reason} for s in read.skipped]
        print_json(document)
    elif output == "github":
        sys.stdout.write(github_annotations(findings))
    elif output == "prometheus":
        sys.stdout.write(prometheus_text(findings))
    else:
        print_grouped_table(findings, read)


def _read_summary(read: Any) -> str:
    """'in 3 files, 12 image references (2 files skipped)': what "no findings" was judged on."""
    from nbcatalog.profilefiles import iter_unique

    files = len(dict.fromkeys(read.files))
    refs = sum(1 for record in iter_unique(read.records) if not record.template)
    text = f"{files} file{'s' if files != 1 else ''}, {refs} image reference{'s' if refs != 1 else ''}"
    if read.skipped:
        text += f", {len(read.skipped)} skipped"
    return text


def print_grouped_table(findings: Sequence[Any], read: Any = None) -> None:
    """One block per source file, worst first within it, severity in colour on a terminal.

    Paths, images, tags and messages are data: :func:`style` and :func:`format_table` escape them.
    """
    from nbcatalog.cli.output import format_table, style

    summary = f" ({_read_summary(read)})" if read is not None else ""
    if not findings:
        print(f"no findings{summary}")
        return
    by_path: dict[str, list[Any]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path, group in by_path.items():
        print(style(path, "bold"))
        rows = []
        for f in group:
            change = f"{f.current} -> {f.suggested}" if f.current and f.suggested else (f.suggested or f.current or "")
            rows.append(
                [f"  {f.line}", style(f.severity, SEVERITY_STYLE[f.severity]), f.kind, f.image, change, f.message]
            )
        print(format_table(["  LINE", "SEVERITY", "KIND", "IMAGE", "TAG", "MESSAGE"], rows))
        print()
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    print(", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items()) + summary)


def _escape_data(text: str) -> str:
    """A workflow command's data: controls escaped visibly (GitHub's log obeys ANSI), then its own %XX."""
    from nbcatalog.safetext import safe_text

    return safe_text(text, allow_newlines=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(findings: Sequence[Any]) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=N,col=C,title=KIND::message``."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for f in findings:
        props = [
            f"file={_escape_property(f.path)}",
            f"line={f.line}",
            f"col={f.col}",
            f"title={_escape_property(f.kind)}",
        ]
        text = f"{f.image}: {f.message}" + (f" (suggested: {f.suggested})" if f.suggested else "")
        lines.append(f"::{level[f.severity]} {','.join(props)}::{_escape_data(text)}\n")
    return "".join(lines)


def _label(value: object) -> str:
    """A Prometheus label value: controls escaped visibly, then the exposition format's escapes."""
    from nbcatalog.safetext import safe_text

    text = safe_text(value or "", allow_newlines=True)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(findings: Sequence[Any]) -> str:
    """Text exposition: one gauge sample per finding (as version-checker exports), plus totals."""
    out = [
        "# HELP nbcatalog_audit_finding An audit finding (always 1); the labels say what and where.",
        "# TYPE nbcatalog_audit_finding gauge",
    ]
    for f in findings:
        labels = {
            "source": f.source, "image": f.image, "kind": f.kind, "severity": f.severity,
            "current": f.current, "suggested": f.suggested,
        }  # fmt: skip
        out.append("nbcatalog_audit_finding{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "} 1")
    out += [
        "# HELP nbcatalog_audit_findings Number of audit findings by severity.",
        "# TYPE nbcatalog_audit_findings gauge",
    ]
    for severity in ("error", "warning", "info"):
        count = sum(1 for f in findings if f.severity == severity)
        out.append(f'nbcatalog_audit_findings{{severity="{severity}"}} {count}')
    return "\n".join(out) + "\n"
