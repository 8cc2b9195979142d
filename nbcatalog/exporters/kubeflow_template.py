"""A complete jupyter-web-app ``spawner_ui_config.yaml`` for a fresh export (no admin file to merge).

Modelled on Kubeflow v1.10's defaults; the image sections are filled by the kubeflow exporter, and
the GPU affinity/toleration groups come from the catalog's ``gpu:`` section.
"""

from __future__ import annotations

TEMPLATE = """\
# Configuration file for the Kubeflow Notebooks UI (jupyter-web-app).
# `readOnly: true` fixes an option to the admin's value; a missing `readOnly` means false.

spawnerFormDefaults:
  # if users can input custom images, or only select from dropdowns
  allowCustomImage: true

  # if the registry / the tag of the container image is hidden from display
  hideRegistry: true
  hideTag: false

  imagePullPolicy:
    readOnly: false
    value: IfNotPresent

  # Jupyter-like images (their HTTP path comes from the NB_PREFIX environment variable)
  image:
    value: ""
    options: []

  # VSCode-like images (Group 1): served at "/", Istio rewrites the path
  imageGroupOne:
    value: ""
    options: []

  # RStudio-like images (Group 2): path from the "X-RStudio-Root-Path" header
  imageGroupTwo:
    value: ""
    options: []

  cpu:
    readOnly: false
    value: "0.5"
    limitFactor: "1.2"

  memory:
    readOnly: false
    value: "1.0Gi"
    limitFactor: "1.2"

  gpus:
    readOnly: false
    value:
      vendor: ""
      vendors: []
      num: "none"

  workspaceVolume:
    readOnly: false
    value:
      mount: /home/jovyan
      newPvc:
        metadata:
          name: "{notebook-name}-workspace"
        spec:
          resources:
            requests:
              storage: 5Gi
          accessModes:
            - ReadWriteOnce

  dataVolumes:
    readOnly: false
    value: []

  affinityConfig:
    readOnly: false
    value: ""
    options: []

  tolerationGroup:
    readOnly: false
    value: ""
    options: []

  shm:
    readOnly: false
    value: true

  configurations:
    readOnly: false
    value: []

  environment:
    readOnly: false
    value: {}
"""
