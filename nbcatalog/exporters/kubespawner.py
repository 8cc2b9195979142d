"""``c.KubeSpawner.profile_list`` for a ``jupyterhub_config.py``: the z2jh profiles as Python source.

The same profile data as the z2jh export (one builder, two renderings), printed deterministically
so ``export --check`` can compare it byte for byte.
"""

from __future__ import annotations

from nbcatalog.catalog import Catalog
from nbcatalog.exporters.common import ExportResult, python_literal
from nbcatalog.exporters.gpu import GpuPlan
from nbcatalog.exporters.jupyterhub import profile_list


def export_profile_list(catalog: Catalog, plan: GpuPlan, *, profile_options: bool = False) -> ExportResult:
    profiles = profile_list(catalog, plan, profile_options=profile_options, export_format="kubespawner")
    body = (
        "# ruff: noqa: E501\n"
        "# Load from jupyterhub_config.py (e.g. exec(open(PATH).read()) or a jupyterhub_config.d file).\n"
        "# GPU profiles repeat z2jh's hub.jupyter.org/dedicated tolerations: an override replaces the list.\n"
        "c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file\n"
        "\n"
        f"c.KubeSpawner.profile_list = {python_literal(profiles)}\n"
    )
    note = plan.note()
    return ExportResult(body, (note,) if note else ())
