"""How the collection's plugins reach the Kubernetes API server (and helm, for hub_release)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - The kubeconfig file.
      - When omitted, E(K8S_AUTH_KUBECONFIG); then the first file of E(KUBECONFIG), else
        C(~/.kube/config); and when that file does not exist and E(KUBERNETES_SERVICE_HOST) is
        set (a pod, such as an AWX execution environment), the pod's service account - its
        token, read again as it rotates, and the cluster CA mounted next to it.
      - Not read when O(host) and O(api_key) are both set.
    type: path
  kube_context:
    description:
      - The context of the kubeconfig; its current context when omitted.
      - E(K8S_AUTH_CONTEXT) when omitted.
    type: str
    aliases: [context]
  host:
    description:
      - URL of the API server, e.g. C(https://203.0.113.10:6443).
      - With O(api_key), no kubeconfig is read; with a kubeconfig, replaces the server it names.
      - E(K8S_AUTH_HOST) when omitted.
    type: str
  api_key:
    description:
      - Bearer token for the API server (a service account token, for example).
      - Never part of a result, a message or helm's command line (helm gets it in its environment).
      - E(K8S_AUTH_API_KEY) when omitted.
    type: str
  ca_cert:
    description:
      - CA certificate file that the API server's certificate must chain to.
      - E(K8S_AUTH_SSL_CA_CERT) when omitted.
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether the API server's certificate is verified.
      - E(K8S_AUTH_VERIFY_SSL) when omitted; else what the kubeconfig says (verified by default).
    type: bool
    aliases: [verify_ssl]
notes:
  - The access options and their E(K8S_AUTH_*) variables are those of the C(kubernetes.core) modules,
    so one C(module_defaults) block or one set of variables can serve both collections. The
    collection's action group C(imagebuilding.hubs.cluster) takes them for every plugin that talks
    to the cluster - C(module_defaults) with C(group/imagebuilding.hubs.cluster).
  - helm gets the same access - C(KUBECONFIG) and C(HELM_KUBECONTEXT), or C(HELM_KUBEAPISERVER),
    C(HELM_KUBETOKEN), C(HELM_KUBECAFILE) and C(HELM_KUBEINSECURE_SKIP_TLS_VERIFY) in its environment.
  - Client certificates, proxies and impersonation are taken from a kubeconfig only.
"""
