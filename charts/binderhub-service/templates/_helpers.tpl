{{- /*
  Helpers of the binderhub-service stand-in chart (written for
  imagebuilding-hubs).

  Object names follow the real chart: the prefix is fullnameOverride when it is
  a string (the default "" gives no prefix: binderhub, docker-api,
  build-pods-docker-config); when it is null the prefix is the release name,
  plus "-binderhub-service" unless the release name already contains the
  chart name. plugins/module_utils/chart_names.py computes the same names.
*/}}

{{- define "bhs.fullname" -}}
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

{{- /* (dict "root" $ "name" "binderhub") -> [<prefix>-]binderhub */}}
{{- define "bhs.name" -}}
{{- $prefix := include "bhs.fullname" .root -}}
{{- if $prefix -}}
{{- printf "%s-%s" $prefix .name -}}
{{- else -}}
{{- .name -}}
{{- end -}}
{{- end }}

{{- define "bhs.binderhubName" -}}
{{- include "bhs.name" (dict "root" . "name" "binderhub") -}}
{{- end }}

{{- define "bhs.dockerApiName" -}}
{{- include "bhs.name" (dict "root" . "name" "docker-api") -}}
{{- end }}

{{- define "bhs.buildPodsDockerConfigName" -}}
{{- include "bhs.name" (dict "root" . "name" "build-pods-docker-config") -}}
{{- end }}

{{- define "bhs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "bhs.binderhubName" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{- define "bhs.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bhs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "bhs.selectorLabels" . }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- /* Directory of the docker-api socket and state on the node, per release. */}}
{{- define "bhs.dockerApiDir" -}}
{{- printf "%s-%s/docker-api" .Release.Namespace .Release.Name -}}
{{- end }}

{{- /*
  The docker client config.json of the build pods: registry credentials
  (only when config.BinderHub.use_registry is true), merged with
  buildPodsDockerConfig; the credentials win where both set a key.
*/}}
{{- define "bhs.buildPodsDockerConfig" -}}
{{- $config := dict -}}
{{- if dig "BinderHub" "use_registry" false (.Values.config | default dict) -}}
{{- $creds := .Values.buildPodsRegistryCredentials -}}
{{- $auth := printf "%s:%s" $creds.username $creds.password | b64enc -}}
{{- $config = dict "auths" (dict $creds.server (dict "auth" $auth)) -}}
{{- end -}}
{{- with .Values.buildPodsDockerConfig -}}
{{- $config = mustMerge $config (deepCopy .) -}}
{{- end -}}
{{- toPrettyJson $config -}}
{{- end }}

{{- /* Egress to everything but private addresses, plus DNS in kube-system. */}}
{{- define "bhs.publicEgress" -}}
- to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
