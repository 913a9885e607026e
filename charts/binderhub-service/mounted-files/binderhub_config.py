# BinderHub configuration entry point of the binderhub-service stand-in chart
# (imagebuilding-hubs). It is mounted from the chart's config Secret next to
# chart-config.yaml and turns the chart values into traitlets config:
#   config.<Class>.<trait>: value  ->  c.<Class>.<trait> = value
#   extraConfig.<name>: code       ->  executed in name order, with `c` in scope
# The stand-in starts no BinderHub process; this file documents the layout.
from pathlib import Path

import yaml

_MOUNT = Path("/etc/binderhub/mounted-secret")
_values = yaml.safe_load((_MOUNT / "chart-config.yaml").read_text()) or {}

for _class_name, _traits in (_values.get("config") or {}).items():
    for _trait, _value in (_traits or {}).items():
        setattr(getattr(c, _class_name), _trait, _value)  # noqa: F821

for _name, _code in sorted((_values.get("extraConfig") or {}).items()):
    if _code:
        exec(compile(_code, f"extraConfig.{_name}", "exec"))  # noqa: S102
