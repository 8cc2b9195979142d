"""The targets' own rules, encoded for :mod:`tests.exporters.schemacheck`.

- z2jh ``singleuser.profileList``: the chart's values.schema.yaml only says ``type: array``; the
  rules are KubeSpawner's (profile keys, ``profile_options`` choices, snake_case override traits,
  which it silently ignores when camelCase).
- WorkspaceKind: the kubebuilder markers of kubeflow/notebooks ``workspacekind_types.go``
  (v1beta1), which generate the CRD's OpenAPI schema.
- DaemonSet (apps/v1): the Kubernetes API types (``k8s.io/api`` apps/v1 ``DaemonSetSpec``, core/v1
  ``PodSpec``, ``Container``, ``SecurityContext``, ``Affinity``) with the API server's validation of
  names, labels and quantities. Every field of the types is listed, so an unknown key fails as
  ``kubectl apply``'s strict field validation would; only the parts a pre-puller uses are detailed.
"""

from __future__ import annotations

from typing import Any

STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
TOLERATION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string"},
        "operator": {"enum": ["Exists", "Equal"]},
        "value": {"type": "string"},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
        "tolerationSeconds": {"type": "integer"},
    },
}
KUBESPAWNER_OVERRIDE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {"^[a-z][a-z0-9_]*$": {}},  # snake_case trait names only
    "properties": {
        "image": {"type": "string", "minLength": 1},
        "node_selector": STRING_MAP,
        "tolerations": {"type": "array", "items": TOLERATION},
        "extra_resource_limits": STRING_MAP,
    },
}
CHOICE: dict[str, Any] = {
    "type": "object",
    "required": ["display_name"],
    "additionalProperties": False,
    "properties": {
        "display_name": {"type": "string", "minLength": 1},
        "default": {"type": "boolean"},
        "kubespawner_override": KUBESPAWNER_OVERRIDE,
    },
}
PROFILE_OPTION: dict[str, Any] = {
    "type": "object",
    "required": ["display_name", "choices"],
    "additionalProperties": False,
    "properties": {
        "display_name": {"type": "string", "minLength": 1},
        "choices": {"type": "object", "additionalProperties": False, "patternProperties": {"^[a-z0-9._-]+$": CHOICE}},
        "unlisted_choice": {"type": "object"},
    },
}
PROFILE: dict[str, Any] = {
    "type": "object",
    "required": ["display_name"],
    "additionalProperties": False,
    "properties": {
        "display_name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "slug": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"},
        "default": {"type": "boolean"},
        "kubespawner_override": KUBESPAWNER_OVERRIDE,
        "profile_options": {
            "type": "object",
            "additionalProperties": False,
            "patternProperties": {"^[a-z0-9_-]+$": PROFILE_OPTION},
        },
    },
}
Z2JH_VALUES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["singleuser"],
    "properties": {
        "singleuser": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"profileList": {"type": "array", "items": PROFILE}},
        }
    },
}

# --- WorkspaceKind (kubeflow.org/v1beta1) ----------------------------------------------------------

_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_PORT_ID = {"type": "string", "minLength": 1, "maxLength": 32, "pattern": "^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$"}
_OPTION_ID = {"type": "string", "minLength": 1, "maxLength": 256}
_LABEL = {
    "type": "object",
    "required": ["key", "value"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "minLength": 2, "maxLength": 64},
        "value": {"type": "string", "minLength": 1, "maxLength": 64},
    },
}
_OPTION_SPAWNER = {
    "type": "object",
    "required": ["displayName"],
    "additionalProperties": False,
    "properties": {
        "displayName": {"type": "string", "minLength": 2, "maxLength": 128},
        "description": {"type": "string", "minLength": 2, "maxLength": 1024},
        "labels": {"type": "array", "maxItems": 32, "items": _LABEL},
        "hidden": {"type": "boolean"},
    },
}
_REDIRECT = {
    "type": "object",
    "required": ["to"],
    "additionalProperties": False,
    "properties": {
        "to": _OPTION_ID,
        "message": {
            "type": "object",
            "required": ["level", "text"],
            "additionalProperties": False,
            "properties": {
                "level": {"enum": ["Info", "Warning", "Danger"]},
                "text": {"type": "string", "minLength": 2, "maxLength": 1024},
            },
        },
    },
}
_IMAGE_VALUE = {
    "type": "object",
    "required": ["id", "spawner", "spec"],
    "additionalProperties": False,
    "properties": {
        "id": _OPTION_ID,
        "spawner": _OPTION_SPAWNER,
        "redirect": _REDIRECT,
        "spec": {
            "type": "object",
            "required": ["image", "ports"],
            "additionalProperties": False,
            "properties": {
                "image": {"type": "string", "minLength": 2},
                "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
                "ports": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["id", "port"],
                        "additionalProperties": False,
                        "properties": {
                            "id": _PORT_ID,
                            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                            "displayName": {"type": "string", "minLength": 2, "maxLength": 64},
                        },
                    },
                },
            },
        },
    },
}
_POD_VALUE = {
    "type": "object",
    "required": ["id", "spawner", "spec"],
    "additionalProperties": False,
    "properties": {
        "id": _OPTION_ID,
        "spawner": _OPTION_SPAWNER,
        "redirect": _REDIRECT,
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "affinity": {"type": "object"},
                "nodeSelector": STRING_MAP,
                "tolerations": {"type": "array", "items": TOLERATION},
                "resources": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"requests": {"type": "object"}, "limits": {"type": "object"}},
                },
                "schedulerName": {"type": "string", "pattern": _DNS_SUBDOMAIN},
            },
        },
    },
}


def _options(value_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["spawner", "values"],
        "additionalProperties": False,
        "properties": {
            "spawner": {
                "type": "object",
                "required": ["default"],
                "additionalProperties": False,
                "properties": {"default": _OPTION_ID},
            },
            "values": {"type": "array", "minItems": 1, "items": value_schema},
        },
    }


WORKSPACE_KIND: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "kubeflow.org/v1beta1"},
        "kind": {"const": "WorkspaceKind"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN}},
        },
        "spec": {
            "type": "object",
            "required": ["spawner", "podTemplate"],
            "additionalProperties": False,
            "properties": {
                "spawner": {
                    "type": "object",
                    "required": ["displayName", "description", "icon", "logo"],
                    "additionalProperties": False,
                    "properties": {
                        "displayName": {"type": "string", "minLength": 2, "maxLength": 128},
                        "description": {"type": "string", "minLength": 2, "maxLength": 4096},
                        "hidden": {"type": "boolean"},
                        "deprecated": {"type": "boolean"},
                        "icon": {"type": "object", "required": ["url"]},
                        "logo": {"type": "object", "required": ["url"]},
                    },
                },
                "podTemplate": {
                    "type": "object",
                    "required": ["volumeMounts", "ports", "options"],
                    "additionalProperties": False,
                    "properties": {
                        "volumeMounts": {
                            "type": "object",
                            "required": ["home"],
                            "properties": {"home": {"type": "string", "minLength": 2}},
                        },
                        "ports": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["id", "protocol", "defaultDisplayName"],
                                "additionalProperties": False,
                                "properties": {
                                    "id": _PORT_ID,
                                    "protocol": {"enum": ["HTTP"]},
                                    "defaultDisplayName": {"type": "string", "minLength": 2, "maxLength": 64},
                                    "httpProxy": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {
                                            "removePathPrefix": {"type": "boolean"},
                                            "requestHeaders": {"type": "object"},
                                        },
                                    },
                                },
                            },
                        },
                        "extraEnv": {"type": "array", "items": {"type": "object", "required": ["name"]}},
                        "options": {
                            "type": "object",
                            "required": ["imageConfig", "podConfig"],
                            "additionalProperties": False,
                            "properties": {"imageConfig": _options(_IMAGE_VALUE), "podConfig": _options(_POD_VALUE)},
                        },
                    },
                },
            },
        },
    },
}

# --- DaemonSet (apps/v1) ---------------------------------------------------------------------------


def _fields(required: list[str], detailed: dict[str, Any], others: str) -> dict[str, Any]:
    """An object of an API type: ``detailed`` fields checked, the type's other fields allowed, no more."""
    properties = dict(detailed)
    properties.update({name: {} for name in others.split() if name not in detailed})
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


_DNS_LABEL = {"type": "string", "minLength": 1, "maxLength": 63, "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
_LABEL_KEY = (  # an optional DNS-subdomain prefix and "/", then a name of at most 63
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = {"type": "string", "maxLength": 63, "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"}
LABELS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {_LABEL_KEY: _LABEL_VALUE},
}
_QUANTITY = {
    "type": ["string", "integer", "number"],
    "pattern": r"^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?\d+))?$",
}
_INT_OR_PERCENT = {"type": ["integer", "string"], "minimum": 0, "pattern": r"^\d+%$"}
_STRINGS = {"type": "array", "items": {"type": "string"}}
OBJECT_META = _fields(
    [],
    {"name": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN}, "namespace": _DNS_LABEL,
     "labels": LABELS, "annotations": STRING_MAP},
    "name generateName namespace labels annotations ownerReferences finalizers uid resourceVersion generation "
    "creationTimestamp deletionTimestamp deletionGracePeriodSeconds managedFields selfLink",
)  # fmt: skip
_LABEL_SELECTOR = _fields(
    [],
    {
        "matchLabels": LABELS,
        "matchExpressions": {"type": "array", "items": _fields(
            ["key", "operator"],
            {"key": {"type": "string", "pattern": _LABEL_KEY},
             "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]}, "values": _STRINGS},
            "key operator values",
        )},
    },
    "matchLabels matchExpressions",
)  # fmt: skip
_NODE_SELECTOR_TERM = _fields(
    [],
    {
        "matchExpressions": {"type": "array", "items": _fields(
            ["key", "operator"],
            {"key": {"type": "string", "minLength": 1},
             "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]}, "values": _STRINGS},
            "key operator values",
        )},
    },
    "matchExpressions matchFields",
)  # fmt: skip
AFFINITY = _fields(
    [],
    {
        "nodeAffinity": _fields(
            [],
            {"requiredDuringSchedulingIgnoredDuringExecution": _fields(
                ["nodeSelectorTerms"],
                {"nodeSelectorTerms": {"type": "array", "minItems": 1, "items": _NODE_SELECTOR_TERM}},
                "nodeSelectorTerms",
            )},
            "requiredDuringSchedulingIgnoredDuringExecution preferredDuringSchedulingIgnoredDuringExecution",
        ),
    },
    "nodeAffinity podAffinity podAntiAffinity",
)  # fmt: skip
SECURITY_CONTEXT = _fields(
    [],
    {
        "runAsUser": {"type": "integer", "minimum": 0}, "runAsGroup": {"type": "integer", "minimum": 0},
        "runAsNonRoot": {"type": "boolean"}, "allowPrivilegeEscalation": {"type": "boolean"},
        "privileged": {"type": "boolean"}, "readOnlyRootFilesystem": {"type": "boolean"},
        "capabilities": _fields([], {"add": _STRINGS, "drop": _STRINGS}, "add drop"),
        "seccompProfile": _fields(
            ["type"], {"type": {"enum": ["RuntimeDefault", "Localhost", "Unconfined"]}}, "type localhostProfile"
        ),
    },
    "capabilities privileged seLinuxOptions windowsOptions runAsUser runAsGroup runAsNonRoot "
    "readOnlyRootFilesystem allowPrivilegeEscalation procMount seccompProfile appArmorProfile",
)  # fmt: skip
CONTAINER = _fields(
    ["name"],
    {
        "name": _DNS_LABEL,
        "image": {"type": "string", "minLength": 1, "pattern": r"^\S+$"},
        "command": _STRINGS, "args": _STRINGS,
        "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
        "resources": _fields(
            [],
            {"requests": {"type": "object", "additionalProperties": _QUANTITY},
             "limits": {"type": "object", "additionalProperties": _QUANTITY}},
            "limits requests claims",
        ),
        "securityContext": SECURITY_CONTEXT,
    },
    "name image command args workingDir ports envFrom env resources resizePolicy restartPolicy volumeMounts "
    "volumeDevices livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath "
    "terminationMessagePolicy imagePullPolicy securityContext stdin stdinOnce tty",
)  # fmt: skip
POD_SPEC = _fields(
    ["containers"],
    {
        "containers": {"type": "array", "minItems": 1, "items": CONTAINER},
        "initContainers": {"type": "array", "items": CONTAINER},
        "nodeSelector": LABELS,
        "tolerations": {"type": "array", "items": TOLERATION},
        "affinity": AFFINITY,
        "restartPolicy": {"enum": ["Always"]},  # the only one a DaemonSet's pods may have
        "terminationGracePeriodSeconds": {"type": "integer", "minimum": 0},
        "automountServiceAccountToken": {"type": "boolean"},
        "imagePullSecrets": {"type": "array", "items": _fields(["name"], {"name": {"type": "string"}}, "name")},
        "priorityClassName": {"type": "string"},
    },
    "volumes initContainers containers ephemeralContainers restartPolicy terminationGracePeriodSeconds "
    "activeDeadlineSeconds dnsPolicy nodeSelector serviceAccountName serviceAccount automountServiceAccountToken "
    "nodeName hostNetwork hostPID hostIPC shareProcessNamespace securityContext imagePullSecrets hostname "
    "subdomain affinity schedulerName tolerations hostAliases priorityClassName priority dnsConfig "
    "readinessGates runtimeClassName enableServiceLinks preemptionPolicy overhead topologySpreadConstraints "
    "setHostnameAsFQDN os hostUsers schedulingGates resourceClaims resources",
)  # fmt: skip
DAEMON_SET: dict[str, Any] = _fields(
    ["apiVersion", "kind", "metadata", "spec"],
    {
        "apiVersion": {"const": "apps/v1"},
        "kind": {"const": "DaemonSet"},
        "metadata": _fields(["name"], OBJECT_META["properties"], " ".join(OBJECT_META["properties"])),
        "spec": _fields(
            ["selector", "template"],
            {
                "selector": _LABEL_SELECTOR,
                "template": _fields(["spec"], {"metadata": OBJECT_META, "spec": POD_SPEC}, "metadata spec"),
                "updateStrategy": _fields(
                    [],
                    {"type": {"enum": ["RollingUpdate", "OnDelete"]},
                     "rollingUpdate": _fields([], {"maxUnavailable": _INT_OR_PERCENT, "maxSurge": _INT_OR_PERCENT},
                                              "maxUnavailable maxSurge")},
                    "type rollingUpdate",
                ),
                "minReadySeconds": {"type": "integer", "minimum": 0},
                "revisionHistoryLimit": {"type": "integer", "minimum": 0},
            },
            "selector template updateStrategy minReadySeconds revisionHistoryLimit",
        ),
        "status": {"type": "object"},
    },
    "apiVersion kind metadata spec status",
)  # fmt: skip
