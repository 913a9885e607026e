"""Values that make BinderHub and the build pods trust a registry that has its own CA
(``registry_ca_file``): BinderHub's registry client checks images with it, docker-api (the
daemon the build pods push through) pushes with it.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView

# Where the CA travels in the binderhub-service values: the chart mounts ``custom`` with its
# config (chart-config.yaml) and BinderHub's config file offers get_chart_config to read it.
CA_CUSTOM_KEY = "imagebuildingHubs"
CA_CUSTOM_FIELD = "registryCACert"
CA_CONFIG_KEY = "ibh-02-registry-ca"
DOCKER_API_CA_FILE = "registry-ca.crt"

CA_SNIPPET = f"""\
# Rendered by imagebuilding-hubs: the hub's registry has its own CA (registry_ca_file).
# BinderHub's HTTP client trusts it beside certifi's public CAs. BinderHub configures tornado's
# client after this file has run (init_pycurl), so the CA is added right after that; no file is
# written (the container's root file system is read-only).
import ssl as _ibh_ssl

import certifi as _ibh_certifi
from binderhub.app import BinderHub as _IbhBinderHub
from tornado.httpclient import AsyncHTTPClient as _IbhAsyncHTTPClient

with open(_ibh_certifi.where()) as _ibh_public:
    _ibh_bundle = _ibh_public.read() + "\\n" + get_chart_config("custom.{CA_CUSTOM_KEY}.{CA_CUSTOM_FIELD}")
_ibh_init_pycurl = _IbhBinderHub.init_pycurl


def _ibh_trust_registry_ca(self):
    _ibh_init_pycurl(self)
    client_class = _IbhAsyncHTTPClient.configured_class()
    if client_class.__name__ == "CurlAsyncHTTPClient":
        import pycurl

        def _ibh_ca(curl):
            curl.setopt(pycurl.CAINFO_BLOB, _ibh_bundle.encode())

        _IbhAsyncHTTPClient.configure(client_class, defaults={{"prepare_curl_callback": _ibh_ca}})
    else:
        _ibh_context = _ibh_ssl.create_default_context(cadata=_ibh_bundle)
        _IbhAsyncHTTPClient.configure(client_class, defaults={{"ssl_options": _ibh_context}})
    self.log.info("Registry CA of imagebuilding-hubs added to BinderHub's HTTP client")


_IbhBinderHub.init_pycurl = _ibh_trust_registry_ca
"""


def docker_certs_path(host: str) -> str:
    """Where dockerd looks for the CA of a registry (``host[:port]``)."""
    return f"/etc/docker/certs.d/{host}/ca.crt"


def registry_ca_values(registry: RegistryView) -> dict[str, Any]:
    """The binderhub-service values for a registry with its own CA; none for a public one."""
    if not registry.ca_cert:
        return {}
    return {
        "custom": {CA_CUSTOM_KEY: {CA_CUSTOM_FIELD: registry.ca_cert}},
        "extraConfig": {CA_CONFIG_KEY: CA_SNIPPET},
        "dockerApi": {"extraFiles": {DOCKER_API_CA_FILE: {
            "mountPath": docker_certs_path(registry.host), "stringData": registry.ca_cert}}},
    }
