"""``nbcatalog tags REPO [--details]``: a repository's tags, optionally with what each points at."""

from __future__ import annotations

import argparse
from typing import Any

from nbcatalog.refs import parse_repository
from nbcatalog.session import Session, TagDetail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repository", metavar="REPO", help="e.g. quay.io/jupyter/scipy-notebook or oci:DIR")
    parser.add_argument("--details", action="store_true", help="resolve each tag: digest, created, platforms")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--all", action="store_true", help="also show cosign signature/attestation/SBOM tags")


def _detail_json(detail: TagDetail) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tag": detail.tag,
        "digest": detail.digest,
        "created": detail.created,
        "platforms": detail.platforms,
        "media_type": detail.media_type,
        "size": detail.size,
    }
    if detail.error:
        out["error"] = detail.error
    return out


def run(args: argparse.Namespace) -> int:
    from nbcatalog.cli.common import run_with_session
    from nbcatalog.cli.output import human_size, print_json, print_table, short_digest, style

    repo = parse_repository(args.repository)
    args.include_signatures = args.all

    async def work(session: Session) -> tuple[list[str], list[TagDetail]]:
        tags = await session.list_tags(repo)
        details = await session.tag_details(repo, tags) if args.details else []
        return tags, details

    tags, details = run_with_session(args, work)
    failed = [d for d in details if d.error]
    if args.json:
        rows = [_detail_json(d) for d in details] if args.details else [{"tag": t} for t in tags]
        print_json({"repository": str(repo), "tags": rows})
    elif args.details:
        print_table(
            ["TAG", "DIGEST", "CREATED", "PLATFORMS", "SIZE"],
            [
                [
                    d.tag,
                    style(d.error, "red") if d.error else short_digest(d.digest),
                    (d.created or "")[:19],
                    ",".join(d.platforms),
                    human_size(d.size),
                ]
                for d in details
            ],
        )
    elif tags:
        from nbcatalog.safetext import safe_text

        print("\n".join(safe_text(tag) for tag in tags))  # one write, not one per tag; a tag is one line
    return 1 if failed else 0
