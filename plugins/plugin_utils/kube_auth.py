"""How the controller-side plugins reach the cluster: the options kubernetes.core's modules take,
with the same ``K8S_AUTH_*`` environment fallbacks, resolved once for the API client and helm.

Each option falls back to its environment variable when the task leaves it empty. Then:

1. ``host`` and ``api_key`` together: that API server with that bearer token; no kubeconfig is read.
2. ``kubeconfig`` or ``kube_context`` given: the kubeconfig (default ``$KUBECONFIG``, else
   ``~/.kube/config``) and the context.
3. Neither: the default kubeconfig when the file exists; otherwise, when ``KUBERNETES_SERVICE_HOST``
   is set (a pod, e.g. an AWX execution environment), the pod's service account (its token file,
   re-read as it rotates, and the cluster CA next to it).

``host``, ``api_key``, ``ca_cert`` and ``validate_certs`` given with a kubeconfig override what the
kubeconfig says. The token is never part of a message or a result: ``KubeAccess`` does not show it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ansible.module_utils.parsing.convert_bool import boolean

# option -> environment variable (kubernetes.core's names)
ENVIRONMENT = {
    "kubeconfig": "K8S_AUTH_KUBECONFIG",
    "kube_context": "K8S_AUTH_CONTEXT",
    "host": "K8S_AUTH_HOST",
    "api_key": "K8S_AUTH_API_KEY",
    "ca_cert": "K8S_AUTH_SSL_CA_CERT",
    "validate_certs": "K8S_AUTH_VERIFY_SSL",
}
# alias -> option (kubernetes.core's option names, so one module_defaults block can serve both)
ALIASES = {"context": "kube_context", "ssl_ca_cert": "ca_cert", "verify_ssl": "validate_certs"}
ARGS = frozenset((*ENVIRONMENT, *ALIASES))
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")

KUBECONFIG, HOST, IN_CLUSTER = "kubeconfig", "host", "in-cluster"


class KubeConfigError(ValueError):
    """The cluster's access settings cannot be used; the message names the variable."""


@dataclass(frozen=True)
class KubeAccess:
    """Where the cluster is and how to authenticate, resolved (``mode``: kubeconfig, host, in-cluster)."""

    mode: str
    kubeconfig: str = ""
    context: str = ""
    host: str = ""
    api_key: str = field(default="", repr=False)  # never shown
    ca_cert: str = ""
    validate_certs: bool | None = None
    token_file: str = ""  # in-cluster: the service account's token, re-read when it rotates

    def describe(self) -> str:
        """For messages: which cluster access was used (never the token)."""
        if self.mode == HOST:
            return f"API server {self.host} (host, api_key)"
        if self.mode == IN_CLUSTER:
            return f"the pod's service account, API server {self.host}"
        return f"kubeconfig {self.kubeconfig}" + (f", context {self.context}" if self.context else "")


def _option(args: Mapping[str, object], environ: Mapping[str, str], name: str) -> str:
    value = args.get(name)
    if value is None or value == "":
        value = next((args[alias] for alias, option in ALIASES.items()
                      if option == name and args.get(alias) not in (None, "")), None)
    if value is None or value == "":
        value = environ.get(ENVIRONMENT[name], "")
    return str(value)


def default_kubeconfig(environ: Mapping[str, str]) -> Path:
    """$KUBECONFIG (its first file) or ~/.kube/config."""
    return Path(environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config").expanduser()


def check_kubeconfig(kubeconfig: str | None, context: str | None, environ: Mapping[str, str] | None = None,
                     where: str = "cluster_kubeconfig") -> Path:
    """The kubeconfig file to use; raises KubeConfigError naming cluster_kubeconfig or
    cluster_kube_context when the file is missing or unreadable or has no such context."""
    environ = os.environ if environ is None else environ
    path = Path(kubeconfig).expanduser() if kubeconfig else default_kubeconfig(environ)
    if not kubeconfig:
        where = "cluster_kubeconfig (empty: $KUBECONFIG or ~/.kube/config)"
    if not path.is_file():
        raise KubeConfigError(f"{where}: {path} does not exist; expected the kubeconfig of the cluster")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise KubeConfigError(f"{where}: {path} is not a readable kubeconfig ({error.__class__.__name__})") from None
    contexts = [str(c.get("name")) for c in document.get("contexts") or [] if isinstance(c, dict)]
    if context and context not in contexts:
        raise KubeConfigError(f"cluster_kube_context: {context!r} is not a context of {path}; expected one of "
                              f"{', '.join(contexts) or '(none)'}")
    return path


def _validate_certs(value: str) -> bool | None:
    if not value:
        return None
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise KubeConfigError(f"validate_certs (K8S_AUTH_VERIFY_SSL): {value!r} is not a boolean") from None


def _in_cluster(environ: Mapping[str, str], service_account: Path) -> tuple[str, str, str]:
    """(API server URL, token file, CA file) of the pod's service account."""
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "443")
    token, ca_file = service_account / "token", service_account / "ca.crt"
    if not token.is_file():
        raise KubeConfigError(f"in-cluster access: KUBERNETES_SERVICE_HOST is set but the service account token "
                              f"{token} does not exist (is a service account token mounted?)")
    server = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"https://{server}", str(token), str(ca_file) if ca_file.is_file() else ""


def kube_access(args: Mapping[str, object], environ: Mapping[str, str] | None = None,
                service_account: Path = SERVICE_ACCOUNT) -> KubeAccess:
    """Resolve the task's access options (and their ``K8S_AUTH_*`` fallbacks); raises KubeConfigError."""
    environ = os.environ if environ is None else environ
    values = {name: _option(args, environ, name) for name in ENVIRONMENT}
    given = {"host": values["host"].rstrip("/"), "api_key": values["api_key"], "ca_cert": values["ca_cert"],
             "validate_certs": _validate_certs(values["validate_certs"])}
    if given["ca_cert"]:
        given["ca_cert"] = str(Path(given["ca_cert"]).expanduser())
        if not Path(given["ca_cert"]).is_file():
            raise KubeConfigError(f"ca_cert (K8S_AUTH_SSL_CA_CERT): {given['ca_cert']} does not exist")
    if given["host"] and given["api_key"]:
        return KubeAccess(HOST, **given)  # type: ignore[arg-type]
    kubeconfig, context = values["kubeconfig"], values["kube_context"]
    if not kubeconfig and not context and not default_kubeconfig(environ).is_file() \
            and environ.get("KUBERNETES_SERVICE_HOST"):
        host, token_file, ca_file = _in_cluster(environ, service_account)
        return KubeAccess(IN_CLUSTER, host=given["host"] or host, ca_cert=given["ca_cert"] or ca_file,
                          validate_certs=given["validate_certs"], token_file=token_file, api_key=given["api_key"])
    where = "cluster_kubeconfig" if args.get("kubeconfig") else "K8S_AUTH_KUBECONFIG"
    path = check_kubeconfig(kubeconfig, context, environ, where)
    return KubeAccess(KUBECONFIG, kubeconfig=str(path), context=context, **given)  # type: ignore[arg-type]


def bearer_token(access: KubeAccess) -> str:
    """The token to send: api_key, else the service account's (read now: it rotates)."""
    if access.api_key:
        return access.api_key
    if access.token_file:
        return Path(access.token_file).read_text().strip()
    return ""


def helm_environment(access: KubeAccess, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """helm's environment for ``access``: KUBECONFIG and HELM_KUBECONTEXT, or HELM_KUBEAPISERVER and
    HELM_KUBETOKEN (an environment variable, not ``--kube-token``: other users of the host can read a
    process's arguments, not its environment), HELM_KUBECAFILE, HELM_KUBEINSECURE_SKIP_TLS_VERIFY.
    helm's plugins (helm-diff) and the helm they run inherit it."""
    env = dict(os.environ if environ is None else environ)
    for name in ("HELM_KUBEAPISERVER", "HELM_KUBETOKEN", "HELM_KUBECAFILE", "HELM_KUBECONTEXT",
                 "HELM_KUBEINSECURE_SKIP_TLS_VERIFY"):
        env.pop(name, None)
    if access.mode == KUBECONFIG:
        env["KUBECONFIG"] = access.kubeconfig
        if access.context:
            env["HELM_KUBECONTEXT"] = access.context
    else:
        env["KUBECONFIG"] = os.devnull  # nothing of a kubeconfig is mixed in
    if access.host:
        env["HELM_KUBEAPISERVER"] = access.host
    token = bearer_token(access)
    if token:
        env["HELM_KUBETOKEN"] = token
    if access.ca_cert:
        env["HELM_KUBECAFILE"] = access.ca_cert
    if access.validate_certs is False:
        env["HELM_KUBEINSECURE_SKIP_TLS_VERIFY"] = "true"
    return env
