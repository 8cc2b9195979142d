"""Recipes of the demo images: a Kubeflow-like lineage, one release per tag, versions moving between tags.

base -> jupyter -> jupyter-pytorch / jupyter-pytorch-cuda (siblings), base -> codeserver, base -> rstudio.
Each release's children are built FROM the same release of their parent, so layer chains line up.
"""

from __future__ import annotations

from collections.abc import Callable

from nbcatalog import ocibuild as b
from nbcatalog.demodata import content as c
from nbcatalog.demodata.releases import Release

PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "jovyan:x:1000:100::/home/jovyan:/bin/bash\n"
)
GROUP = "root:x:0:\ndaemon:x:1:\nusers:x:100:\nnogroup:x:65534:\n"
CUDA_ENV = {
    "NVIDIA_VISIBLE_DEVICES": "all",
    "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    "NVIDIA_REQUIRE_CUDA": "cuda>=12.1 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 "
    "brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471",
}


def _arch(platform: str) -> str:
    return platform.split("/")[1]


def _subdir(platform: str) -> str:
    return "linux-aarch64" if _arch(platform) == "arm64" else "linux-64"


def _debs(release: Release) -> dict[str, str]:
    v = release.versions
    return {
        "openssl": v["openssl"],
        "libssl3": v["openssl"],
        "curl": v["curl"],
        "libcurl4": v["curl"],
        "tzdata": v["tzdata"],
    }


def _service(name: str, command: str) -> b.FileEntry:
    """An s6-overlay v3 longrun, as Kubeflow's images start their server."""
    return b.file(
        f"etc/services.d/{name}/run", f'#!/command/with-contenv bash\ncd "${{HOME}}"\nexec {command}\n', 0o755
    )


def base(release: Release, platform: str) -> b.BuiltImage:
    v = release.versions
    arch, subdir = _arch(platform), _subdir(platform)
    rootfs = b.build_layer(
        [
            b.file("etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'),
            b.file("etc/debian_version", "12.9\n"),
            b.file("etc/passwd", PASSWD),
            b.file("etc/group", GROUP),
            b.file("usr/bin/bash", b"\x7fELF bash", 0o755),
            b.hardlink("usr/bin/sh.distrib", "usr/bin/bash"),
            b.symlink("bin", "usr/bin"),
            b.directory("tmp", 0o1777),
            c.dpkg_status(_debs(release), architecture=arch),
        ],
        created_by="/bin/sh -c #(nop) ADD file:debootstrap-bookworm.tar in / ",
        member_prefix="./",
    )
    s6 = b.build_layer(
        [
            b.file("init", '#!/bin/sh -e\nexec /package/admin/s6-overlay/command/s6-overlay-suexec -- "$@"\n', 0o755),
            b.file(f"package/admin/s6-overlay-{v['s6']}/VERSION", v["s6"] + "\n"),
            b.symlink("package/admin/s6-overlay", f"s6-overlay-{v['s6']}"),
            b.directory("etc/s6-overlay/s6-rc.d/user/contents.d"),
        ],
        created_by=f"RUN /bin/sh -c curl -sL s6-overlay-{v['s6']}-{arch}.tar.xz | tar -xJ -C / # buildkit",
    )
    home = b.build_layer(
        [b.directory("home/jovyan", 0o755, uid=1000, gid=100), b.file("home/jovyan/.bashrc", "", uid=1000, gid=100)],
        created_by="RUN /bin/sh -c useradd -M -N -u 1000 -g 100 -s /bin/bash jovyan # buildkit",
    )
    py = v["python"]
    conda = b.build_layer(
        [
            c.conda_record("python", py, "hab00c5b_0_cpython", subdir=subdir),
            c.conda_record("conda", v["conda"], "py311h38be061_0", subdir=subdir, depends=[f"python >={py}"]),
            c.conda_record("mamba", "1.5.8", "py311h3072747_0", subdir=subdir),
            c.conda_record("pip", v["pip"], "pyh8b19718_0", subdir="noarch"),
            c.conda_record("openssl", "3.3.1", "h4bc722e_2", subdir=subdir),
            *c.dist_info("pip", v["pip"], "The PyPA recommended tool for installing Python packages"),
            *c.dist_info("typing_extensions", "4.11.0", "Backported and Experimental Type Hints for Python 3.8+"),
            b.symlink("opt/conda/bin/python", f"python{py.rsplit('.', 1)[0]}"),
        ],
        created_by=f"RUN /bin/bash -c curl -sL Miniforge3-{v['conda']}-Linux-{arch}.sh -o /tmp/m.sh"
        " && bash /tmp/m.sh -b -p /opt/conda",
    )
    return b.build_image(
        [rootfs, b.EmptyStep("ARG TARGETARCH"), s6, home, conda],
        platform=platform,
        created=release.created,
        env={
            "PATH": "/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NB_USER": "jovyan",
            "NB_UID": "1000",
            "NB_PREFIX": "/",
            "HOME": "/home/jovyan",
            "SHELL": "/bin/bash",
            "CONDA_DIR": "/opt/conda",
            "LANG": "en_US.UTF-8",
            "S6_BEHAVIOUR_IF_STAGE2_FAILS": "2",
            "S6_CMD_WAIT_FOR_SERVICES_MAXTIME": "0",
        },
        labels={
            "org.opencontainers.image.source": "https://github.com/kubeflow/kubeflow",
            "org.opencontainers.image.version": release.tag,
        },
        user="1000",
        working_dir="/home/jovyan",
        entrypoint=["/init"],
    )


def _optional_extensions(release: Release) -> list[b.FileEntry]:
    """jupyterlab-git in the older releases, jupyterlab-lsp in the newer: something added and removed."""
    v = release.versions
    entries: list[b.FileEntry] = []
    if "jupyterlab-git" in v:
        entries += c.dist_info(
            "jupyterlab-git", v["jupyterlab-git"], "A JupyterLab extension for version control using git"
        )
        entries += c.labextension("@jupyterlab/git", v["jupyterlab-git"], "A JupyterLab extension for version control")
    if "jupyterlab-lsp" in v:
        entries += c.dist_info("jupyterlab-lsp", v["jupyterlab-lsp"], "Coding assistance for JupyterLab with LSP")
        entries += c.labextension(
            "@jupyter-lsp/jupyterlab-lsp", v["jupyterlab-lsp"], "Language Server Protocol integration"
        )
    return entries


def jupyter(parent: b.BuiltImage, release: Release) -> b.BuiltImage:
    v = release.versions
    layer = b.build_layer(
        [
            *_optional_extensions(release),
            *c.dist_info(
                "jupyterlab", v["jupyterlab"], "JupyterLab computational environment", requires=["notebook-shim>=0.2"]
            ),
            *c.dist_info("notebook", v["notebook"], "Jupyter Notebook - A web-based notebook environment"),
            *c.dist_info("jupyter_server", v["jupyter_server"], "The backend for Jupyter web applications"),
            *c.dist_info("ipykernel", v["ipykernel"], "IPython Kernel for Jupyter"),
            *c.dist_info("ipywidgets", "8.1.5", "Jupyter interactive widgets"),
            *c.labextension("@jupyter-notebook/lab-extension", v["notebook"], "Jupyter Notebook - Lab Extension"),
            *c.labextension(
                "@jupyter-widgets/jupyterlab-manager",
                v["widgets"],
                "The JupyterLab extension providing Jupyter widgets.",
            ),
            *c.labextension(
                "@jupyter-server/resource-usage", "1.1.0", "JupyterLab extension for monitoring resource usage"
            ),
            _service(
                "jupyterlab",
                'jupyter lab --notebook-dir="${HOME}" --ip=0.0.0.0 --no-browser --port=8888'
                " --ServerApp.base_url=${NB_PREFIX}",
            ),
        ],
        created_by=f"RUN /bin/bash -c python3 -m pip install jupyterlab=={v['jupyterlab']}"
        f" notebook=={v['notebook']} # buildkit",
    )
    return b.build_image(
        [layer],
        base=parent,
        created=release.created,
        exposed_ports=["8888"],
        labels={"org.opencontainers.image.version": release.tag},
    )


def _torch_layer(release: Release, local: str, extra: list[b.FileEntry]) -> b.Layer:
    v = release.versions
    index = "https://download.pytorch.org/whl/" + local
    return b.build_layer(
        [
            *c.dist_info(
                "torch",
                f"{v['torch']}+{local}",
                "Tensors and Dynamic neural networks in Python with strong GPU acceleration",
                requires=["typing-extensions>=4.8.0", "filelock"],
            ),
            *c.dist_info(
                "torchvision",
                f"{v['torchvision']}+{local}",
                "image and video datasets and models for torch deep learning",
            ),
            *c.dist_info("torchaudio", f"{v['torch']}+{local}", "An audio package for PyTorch"),
            *c.dist_info("filelock", "3.15.4", "A platform independent file lock."),
            c.remove_dist_info("typing_extensions", "4.11.0"),
            *c.dist_info("typing_extensions", "4.12.2", "Backported and Experimental Type Hints for Python 3.8+"),
            *extra,
        ],
        created_by=f"RUN /bin/bash -c python3 -m pip install --index-url {index} torch=={v['torch']} # buildkit",
    )


def jupyter_pytorch(parent: b.BuiltImage, release: Release) -> b.BuiltImage:
    layer = _torch_layer(release, "cpu", [])
    return b.build_image(
        [layer], base=parent, created=release.created, labels={"org.opencontainers.image.version": release.tag}
    )


def jupyter_pytorch_cuda(parent: b.BuiltImage, release: Release) -> b.BuiltImage:
    v = release.versions
    wheels = [
        *c.dist_info("nvidia-cublas-cu12", "12.1.3.1", "CUBLAS native runtime libraries"),
        *c.dist_info("nvidia-cuda-runtime-cu12", "12.1.105", "CUDA Runtime native Libraries"),
        *c.dist_info("nvidia-cuda-nvrtc-cu12", "12.1.105", "NVRTC native runtime libraries"),
        *c.dist_info("nvidia-cudnn-cu12", v["cudnn"], "cuDNN runtime libraries"),
        *c.dist_info("nvidia-nccl-cu12", v["nccl"], "NVIDIA Collective Communication Library (NCCL) Runtime"),
    ]
    layer = _torch_layer(release, "cu121", wheels)
    return b.build_image(
        [layer],
        base=parent,
        created=release.created,
        env=CUDA_ENV,
        labels={"org.opencontainers.image.version": release.tag},
    )


def codeserver(parent: b.BuiltImage, release: Release) -> b.BuiltImage:
    v = release.versions
    arch = parent.platform.architecture
    stanza = c.dpkg_stanza(
        "code-server",
        v["code-server"],
        "Run VS Code on any machine anywhere and access it in the browser.",
        section="devel",
        installed_size=412000,
        maintainer="Coder Technologies <support@coder.com>",
    )
    layer = b.build_layer(
        [
            c.dpkg_status(_debs(release), [stanza], architecture=arch),
            b.file("usr/lib/code-server/package.json", f'{{"name": "code-server", "version": "{v["code-server"]}"}}\n'),
            _service("code-server", "/usr/bin/code-server --bind-addr 0.0.0.0:8888 --disable-telemetry --auth none"),
        ],
        created_by=f"RUN /bin/sh -c curl -sL code-server_{v['code-server']}_{arch}.deb -o /tmp/cs.deb"
        " && dpkg -i /tmp/cs.deb # buildkit",
    )
    return b.build_image(
        [layer],
        base=parent,
        created=release.created,
        exposed_ports=["8888"],
        labels={"org.opencontainers.image.version": release.tag},
    )


def rstudio(parent: b.BuiltImage, release: Release) -> b.BuiltImage:
    v = release.versions
    arch = parent.platform.architecture
    r_upstream = v["r"].split("-")[0]
    stanzas = [
        c.dpkg_stanza(
            "r-base-core",
            v["r"],
            "GNU R core of statistical computation and graphics system",
            section="gnu-r",
            installed_size=34000,
            maintainer="Dirk Eddelbuettel <edd@debian.org>",
        ),
        c.dpkg_stanza(
            "rstudio-server",
            v["rstudio"],
            "RStudio Server",
            section="devel",
            installed_size=890000,
            maintainer="RStudio <info@rstudio.com>",
            depends="psmisc, libssl-dev, libclang-dev",
        ),
    ]
    debs = b.build_layer(
        [
            c.dpkg_status(_debs(release), stanzas, architecture=arch),
            _service("rstudio", "/usr/lib/rstudio-server/bin/rserver --server-daemonize=0 --www-port=8888"),
        ],
        created_by=f"RUN /bin/bash -c apt-get install -y r-base-core={v['r']} && dpkg -i rstudio-server.deb # buildkit",
    )
    cran = b.build_layer(
        [
            c.r_description("rmarkdown", v["rmarkdown"], "Dynamic Documents for R", r_version=r_upstream),
            c.r_description(
                "knitr", "1.48", "A General-Purpose Package for Dynamic Report Generation in R", r_version=r_upstream
            ),
            c.r_description("shiny", v["shiny"], "Web Application Framework for R", r_version=r_upstream),
            c.r_description("renv", "1.0.7", "Project Environments", r_version=r_upstream),
        ],
        created_by="RUN /bin/bash -c R -e \"install.packages(c('rmarkdown','knitr','shiny','renv'))\" # buildkit",
    )
    return b.build_image(
        [debs, cran],
        base=parent,
        created=release.created,
        exposed_ports=["8888"],
        env={"R_HOME": "/usr/lib/R"},
        labels={"org.opencontainers.image.version": release.tag},
    )


#: name -> (parent name, recipe); parents come first.
CHILDREN: dict[str, tuple[str, Callable[[b.BuiltImage, Release], b.BuiltImage]]] = {
    "jupyter": ("base", jupyter),
    "jupyter-pytorch": ("jupyter", jupyter_pytorch),
    "jupyter-pytorch-cuda": ("jupyter", jupyter_pytorch_cuda),
    "codeserver": ("base", codeserver),
    "rstudio": ("base", rstudio),
}
#: CUDA images are published for amd64 only, as Kubeflow's are.
AMD64_ONLY = frozenset({"jupyter-pytorch-cuda"})


def build_release(release: Release) -> dict[str, b.Artifact]:
    """Every demo image of ``release``: an image, or an index when the release is multi-platform."""
    per_platform: dict[str, dict[str, b.BuiltImage]] = {}
    for platform in release.platforms:
        built = {"base": base(release, platform)}
        for name, (parent, recipe) in CHILDREN.items():
            if name in AMD64_ONLY and platform != "linux/amd64":
                continue
            built[name] = recipe(built[parent], release)
        per_platform[platform] = built
    out: dict[str, b.Artifact] = {}
    for name in ["base", *CHILDREN]:
        images = [built[name] for built in per_platform.values() if name in built]
        out[name] = b.build_index(images, attestation=True) if len(images) > 1 else images[0]
    return out
