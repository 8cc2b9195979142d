"""The targets' own rules, encoded for :mod:`tests.exporters.schemacheck`.

- z2jh ``singleuser.profileList``: the chart's values.schema.yaml only says ``type: array``; the
  rules are KubeSpawner's (profile keys, ``profile_options`` choices, snake_case override traits,
  which it silently ignores when camelCase).
- WorkspaceKind: the kubebuilder markers of kubeflow/notebooks ``workspacekind_types.go``
  (v1beta1), which generate the CRD's OpenAPI schema.
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
