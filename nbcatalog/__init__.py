"""nbcatalog: curate the notebook images users may spawn on JupyterHub and Kubeflow Notebooks."""

__version__ = "0.1.0"
