"""Image references read out of the files admins keep their spawner profiles in, each with its place.

One record type, :class:`ProfileImage`, for every input: Kubeflow ``spawner_ui_config.yaml`` (any
version, bare, in a ConfigMap or behind a kustomization), Kubeflow Notebooks 2.0 WorkspaceKinds,
z2jh values (also as a sub-chart), ``jupyterhub_config.py`` (read with :mod:`ast`, never run) and
catalog.yaml. ``nbcatalog.clusteraudit.read_cluster_profiles`` returns the same records for live objects.
Files are recognised by content, not by name. :func:`rewrite_tags` changes tag text and nothing else.
"""

from nbcatalog.profilefiles.model import (
    CHART_DEDICATED_KEYS,
    FileKind,
    IgnoredKey,
    Position,
    ProfileImage,
    Scheduling,
    is_gpu_resource,
    iter_unique,
)
from nbcatalog.profilefiles.reader import read_profile_file, read_profile_paths, read_profile_text
from nbcatalog.profilefiles.rewrite import rewrite_tags

__all__ = [
    "CHART_DEDICATED_KEYS",
    "FileKind",
    "IgnoredKey",
    "Position",
    "ProfileImage",
    "Scheduling",
    "is_gpu_resource",
    "iter_unique",
    "read_profile_file",
    "read_profile_paths",
    "read_profile_text",
    "rewrite_tags",
]
