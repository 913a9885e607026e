"""The validated hub model's types: what ``build_model`` returns, frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_HOME_MOUNT_PATH = "/home/jovyan"

@dataclass(frozen=True)
class Release:
    """One helm release of the hub: what ``kubernetes.core.helm`` gets."""

    name: str
    chart: str
    chart_ref: str
    chart_version: str  # "" for a chart directory (helm ignores versions there)
    chart_repo_url: str  # "" unless chart_ref is a chart name in a repository
    namespace: str


@dataclass(frozen=True)
class Cluster:
    name: str
    provider: str
    local: bool
    kubeconfig: str
    kube_context: str
    node_pools: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Hub:
    name: str
    namespace: str
    domain: str
    stage: str
    charts_source: str
    dask_gateway_enabled: bool
    # Builds images from repositories: a registry and a BinderHub release (hub_model/image_building.py).
    image_building: bool = True


@dataclass(frozen=True)
class Adoption:
    """Values written for an umbrella chart (hub_model/adoption.py): its name, what the operator accepted."""

    umbrella: str = ""
    accepted: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValuesFile:
    path: str
    content: dict[str, Any]
    # sops-encrypted: ``content`` stays empty until ``decrypt_values_files`` (in memory only).
    encrypted: bool = False
    # What was mapped or dropped on the operator's word (hub_model/adoption.py), for the adoption report.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Auth:
    type: str
    client_id: str = ""
    allowed_organizations: list[str] = field(default_factory=list)  # orgs and org:team entries
    allowed_users: list[str] = field(default_factory=list)
    allowed_groups: list[str] = field(default_factory=list)
    allow_all: bool = False
    scope: list[str] = field(default_factory=list)
    authorize_url: str = ""
    token_url: str = ""
    userdata_url: str = ""
    username_claim: str = ""
    groups_claim: str = ""
    login_service: str = ""
    allowed_idps: dict[str, Any] = field(default_factory=dict)
    allowed_hosted_domains: list[str] = field(default_factory=list)  # google: Workspace domains (hd claim)
    extra_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Storage:
    type: str
    capacity: str = ""
    storage_class: str = ""
    server: str = ""
    path: str = ""
    mount_options: list[str] = field(default_factory=list)
    shared_dir: bool = False
    home_mount_path: str = DEFAULT_HOME_MOUNT_PATH


@dataclass(frozen=True)
class Choice:
    key: str
    display_name: str
    description: str
    default: bool
    kubespawner_override: dict[str, Any]


@dataclass(frozen=True)
class UnlistedChoice:
    enabled: bool
    display_name: str
    display_name_in_choices: str
    description_in_choices: str
    validation_regex: str
    validation_message: str
    kubespawner_override: dict[str, Any]


@dataclass(frozen=True)
class ProfileOption:
    key: str
    display_name: str
    choices: list[Choice]
    unlisted_choice: UnlistedChoice | None
    dynamic_image_building: bool


@dataclass(frozen=True)
class Profile:
    display_name: str
    slug: str
    description: str
    default: bool
    kubespawner_override: dict[str, Any]
    options: list[ProfileOption]


@dataclass(frozen=True)
class Ingress:
    enabled: bool = False
    class_name: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    tls_secret_name: str = ""


@dataclass(frozen=True)
class JupyterHubSettings:
    auth: Auth
    admin_users: list[str]
    open_access_opt_in: bool
    storage: Storage
    profiles: list[Profile]
    hub_image: dict[str, str]
    ingress: Ingress
    test_authenticator_opt_in: bool = False


@dataclass(frozen=True)
class BinderHubSettings:
    build_node_pool: str
    docker_cache_size: str


@dataclass(frozen=True)
class Companion:
    """A release of a chart the toolkit does not know, deployed beside the hub's own
    (``hub_companion_releases``, hub_model/companions.py): an NFS home server, an exporter."""

    release: Release
    index: int  # its place in hub_companion_releases: messages name hub_companion_releases[<index>]
    order: str  # "before" or "after" the hub's own releases
    wait: bool  # wait for its objects to be ready (else done when helm applied them)
    timeout: str  # helm's --timeout and the wait's; "" for the hub role's jupyterhub_helm_timeout
    values: dict[str, Any]  # inline values, under its values files
    values_files: list[ValuesFile]  # helm values files of the chart, in order; sops-encrypted ones empty until decrypted

    @property
    def variable(self) -> str:
        return f"hub_companion_releases[{self.index}]"


@dataclass(frozen=True)
class HubModel:
    hub: Hub
    cluster: Cluster
    jupyterhub: JupyterHubSettings
    binderhub_service: BinderHubSettings
    releases: dict[str, Release]
    values_files: list[ValuesFile]
    adoption: Adoption = field(default_factory=Adoption)
    companions: list[Companion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
