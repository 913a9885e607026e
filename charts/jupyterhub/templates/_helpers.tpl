{{- /*
  Helpers of the jupyterhub stand-in chart (written for imagebuilding-hubs).

  Object names follow the real chart: a prefix from fullnameOverride (the
  default "" gives no prefix, so the objects are called hub, proxy-public,
  image-pull-secret, ...); when fullnameOverride is null the prefix is the
  release name, plus "-jupyterhub" unless the release name already contains
  the chart name.
*/}}

{{- define "jh.fullname" -}}
{{- $override := .Values.fullnameOverride -}}
{{- if kindIs "string" $override -}}
{{- $override -}}
{{- else -}}
{{- $chart := .Values.nameOverride | default .Chart.Name -}}
{{- if contains $chart .Release.Name -}}
{{- .Release.Name -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $chart -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- /* Name of one object: the prefix (if any), a dash, the object's own name. */}}
{{- define "jh.name" -}}
{{- $prefix := include "jh.fullname" .root -}}
{{- if $prefix -}}
{{- printf "%s-%s" $prefix .name -}}
{{- else -}}
{{- .name -}}
{{- end -}}
{{- end }}

{{- define "jh.hubName" -}}
{{- include "jh.name" (dict "root" . "name" "hub") -}}
{{- end }}

{{- define "jh.proxyName" -}}
{{- include "jh.name" (dict "root" . "name" "proxy") -}}
{{- end }}

{{- define "jh.pullSecretName" -}}
{{- include "jh.name" (dict "root" . "name" "image-pull-secret") -}}
{{- end }}

{{- define "jh.hubServiceAccountName" -}}
{{- $sa := .Values.hub.serviceAccount | default dict -}}
{{- if $sa.create -}}
{{- $sa.name | default (include "jh.hubName" .) -}}
{{- else -}}
{{- $sa.name | default "default" -}}
{{- end -}}
{{- end }}

{{- define "jh.appLabel" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- /*
  Selector labels of a component: (dict "root" $ "component" "hub").
  These are the legacy labels the real chart selects on; KubeSpawner gives
  user pods component=singleuser-server with the same app and release.
*/}}
{{- define "jh.selectorLabels" -}}
component: {{ .component }}
app: {{ include "jh.appLabel" .root | quote }}
release: {{ .root.Release.Name | quote }}
{{- end }}

{{- /* All labels of an object: (dict "root" $ "component" "hub"). */}}
{{- define "jh.labels" -}}
{{ include "jh.selectorLabels" . }}
chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
heritage: {{ .root.Release.Service }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/name: {{ include "jh.appLabel" .root | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- /* Pod labels: selector labels plus the modern labels, no chart version. */}}
{{- define "jh.podLabels" -}}
{{ include "jh.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/name: {{ include "jh.appLabel" .root | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
{{- end }}

{{- /*
  imagePullSecrets of a pod: (dict "root" $ "image" .Values.hub.image).
  The image's own pullSecrets, then the chart-wide imagePullSecrets, then the
  chart's image-pull-secret when it is created and automatically injected.
  Entries may be names or {name: ...}; renders a JSON list or nothing.
*/}}
{{- define "jh.imagePullSecrets" -}}
{{- $values := .root.Values -}}
{{- $entries := concat (.image.pullSecrets | default list) ($values.imagePullSecrets | default list) -}}
{{- $ips := $values.imagePullSecret | default dict -}}
{{- if and $ips.create $ips.automaticReferenceInjection -}}
{{- $entries = append $entries (include "jh.pullSecretName" .root) -}}
{{- end -}}
{{- $refs := list -}}
{{- range $entries -}}
{{- $ref := . -}}
{{- if kindIs "string" . -}}
{{- $ref = dict "name" . -}}
{{- end -}}
{{- if not (has $ref $refs) -}}
{{- $refs = append $refs $ref -}}
{{- end -}}
{{- end -}}
{{- if $refs -}}
{{- toJson $refs -}}
{{- end -}}
{{- end }}

{{- /*
  Node affinity of the core pods (hub, proxy) from
  scheduling.corePods.nodeAffinity.matchNodePurpose: require | prefer | ignore.
*/}}
{{- define "jh.coreAffinity" -}}
{{- $purpose := dig "corePods" "nodeAffinity" "matchNodePurpose" "prefer" (.Values.scheduling | default dict) -}}
{{- $term := dict "matchExpressions" (list (dict "key" "hub.jupyter.org/node-purpose" "operator" "In" "values" (list "core"))) -}}
{{- if eq $purpose "require" -}}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        {{- list $term | toYaml | nindent 8 }}
{{- else if eq $purpose "prefer" -}}
affinity:
  nodeAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          {{- toYaml $term | nindent 10 }}
{{- end -}}
{{- end }}

{{- /* Tolerations of a core pod: the corePods ones, then the pod's own. */}}
{{- define "jh.coreTolerations" -}}
{{- $core := dig "corePods" "tolerations" list (.root.Values.scheduling | default dict) -}}
{{- with concat $core (.own | default list) -}}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end }}

{{- /*
  A generated secret value, kept stable across upgrades:
  (dict "root" $ "key" "<key in the hub Secret>" "given" <value from values>).
  The value given in the chart values wins; otherwise the value already
  stored in the hub Secret of the release; otherwise a new random one
  (64 hexadecimal characters).
*/}}
{{- define "jh.generated" -}}
{{- if .given -}}
{{- .given -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (include "jh.hubName" .root) -}}
{{- $data := dig "data" dict ($existing | default dict) -}}
{{- if hasKey $data .key -}}
{{- index $data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum 64 | sha256sum -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "jh.proxyAuthToken" -}}
{{- $given := dig "ConfigurableHTTPProxy" "auth_token" "" (.Values.hub.config | default dict) | default .Values.proxy.secretToken -}}
{{- include "jh.generated" (dict "root" . "key" "hub.config.ConfigurableHTTPProxy.auth_token" "given" $given) -}}
{{- end }}

{{- define "jh.cookieSecret" -}}
{{- $given := dig "JupyterHub" "cookie_secret" "" (.Values.hub.config | default dict) | default .Values.hub.cookieSecret -}}
{{- include "jh.generated" (dict "root" . "key" "hub.config.JupyterHub.cookie_secret" "given" $given) -}}
{{- end }}

{{- define "jh.cryptKeeperKeys" -}}
{{- $keys := dig "CryptKeeper" "keys" list (.Values.hub.config | default dict) -}}
{{- include "jh.generated" (dict "root" . "key" "hub.config.CryptKeeper.keys" "given" (join ";" $keys)) -}}
{{- end }}

{{- /* API token of hub service $name: (dict "root" $ "name" "binder"). */}}
{{- define "jh.serviceApiToken" -}}
{{- $service := index .root.Values.hub.services .name | default dict -}}
{{- $given := $service.apiToken | default $service.api_token -}}
{{- include "jh.generated" (dict "root" .root "key" (printf "hub.services.%s.apiToken" .name) "given" $given) -}}
{{- end }}

{{- /* The docker config.json of image-pull-secret, as the real chart writes it. */}}
{{- define "jh.dockerConfigJson" -}}
{{- $ips := .Values.imagePullSecret -}}
{{- $entry := dict "username" $ips.username "password" $ips.password "auth" (printf "%s:%s" $ips.username $ips.password | b64enc) -}}
{{- with $ips.email -}}
{{- $_ := set $entry "email" . -}}
{{- end -}}
{{- dict "auths" (dict ($ips.registry | default "https://index.docker.io/v1/") $entry) | toJson -}}
{{- end }}

{{- /*
  Network policy parts.
  jh.netpol.accessRule: (dict "port" "http" "label" "hub.jupyter.org/network-access-hub")
  lets pods carrying the label reach the port.
  jh.netpol.egressTo: (dict "root" $ "component" "proxy" "ports" (list 8001))
  lets the policy's pods reach a component of this release.
  jh.netpol.common: (dict "policy" .Values.hub.networkPolicy "egress" true)
  the ports open to all, the policy's own ingress/egress rules and DNS.
*/}}
{{- define "jh.netpol.accessRule" -}}
- ports:
    - port: {{ .port }}
  from:
    - podSelector:
        matchLabels:
          {{ .label }}: "true"
{{- end }}

{{- define "jh.netpol.egressTo" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "jh.selectorLabels" . | nindent 10 }}
  ports:
    {{- range .ports }}
    - port: {{ . }}
    {{- end }}
{{- end }}

{{- define "jh.netpol.openPorts" -}}
{{- with .allowedIngressPorts }}
- ports:
    {{- range . }}
    - port: {{ . }}
    {{- end }}
{{- end }}
{{- end }}

{{- define "jh.netpol.dnsEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
