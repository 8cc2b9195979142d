"""The facts ``inspect`` reports about an image, as the contract's JSON document.

Kept apart from the CLI so the terminal app shows the same facts from the same function.
"""

from __future__ import annotations

from typing import Any

from nbcatalog.cuda import cuda_to_json, detect_cuda_in_config
from nbcatalog.kubeflowreq import check_kubeflow, kubeflow_to_json
from nbcatalog.refs import AnyRef
from nbcatalog.resolution import ResolvedImage
from nbcatalog.session import Session

PASSWD = "/etc/passwd"


def image_to_json(image: ResolvedImage) -> dict[str, Any]:
    config = image.config
    return {
        "reference": str(image.ref),
        "digest": image.digest,
        "media_type": image.media_type,
        "platforms": image.platforms,
        "platform": image.platform,
        "manifest_digest": image.manifest_digest,
        "config_digest": image.config_digest,
        "created": config.created,
        "user": config.user,
        "exposed_ports": list(config.exposed_ports),
        "entrypoint": list(config.entrypoint),
        "cmd": list(config.cmd),
        "working_dir": config.working_dir,
        "env": dict(config.env),
        "labels": dict(config.labels),
        "layers": [
            {"digest": layer.digest, "size": layer.size, "media_type": layer.media_type}
            for layer in image.manifest.layers
        ],
        "size": image.manifest.total_size,
        "diff_ids": list(config.diff_ids),
        "history": [entry.to_json() for entry in config.history],
    }


async def inspect_image(session: Session, ref: AnyRef, *, deep: bool = False) -> dict[str, Any]:
    """``inspect``'s document: the config facts, CUDA and Kubeflow readiness.

    ``deep`` also reads the layers (cached per layer): ``/etc/passwd`` resolves the user for the
    Kubeflow checks and the installed packages add CUDA evidence (``+cu121`` wheels, ``cuda-*`` debs).
    """
    image = await session.resolve(ref)
    doc = image_to_json(image)
    passwd_text: str | None = None
    packages = None
    if deep:
        from nbcatalog.packages.image import image_packages

        # One read of each layer (and one cache entry) gives both: /etc/passwd is kept beside the packages.
        read = await image_packages(session, image.pinned)
        passwd = read.files.get(PASSWD)
        passwd_text = passwd.decode("utf-8", "replace") if passwd is not None else ""
        packages = read.packages
    cuda = detect_cuda_in_config(image.config, tag=ref.tag, packages=packages)
    doc["cuda"] = cuda_to_json(cuda)
    doc["kubeflow"] = kubeflow_to_json(check_kubeflow(image.config, passwd_text))
    return doc
