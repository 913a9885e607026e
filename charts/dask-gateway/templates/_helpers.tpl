{{- /*
  Helpers of the dask-gateway stand-in chart (written for imagebuilding-hubs).
  Names as in the real chart: the gateway API objects are api-<fullname>,
  where fullname is fullnameOverride, else the release name (plus
  "-dask-gateway" unless the release name contains the chart name).
*/}}

{{- define "dg.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $chart := .Values.nameOverride | default .Chart.Name -}}
{{- if contains $chart .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $chart | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "dg.apiName" -}}
{{- printf "api-%s" (include "dg.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "dg.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.nameOverride | default .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dg.labels" -}}
{{ include "dg.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
gateway.dask.org/instance: {{ include "dg.fullname" . }}
{{- end }}

{{- /* Pull secrets as a list of {name: ...}, from names or dicts. */}}
{{- define "dg.pullSecretRefs" -}}
{{- $refs := list -}}
{{- range . -}}
{{- if kindIs "string" . -}}
{{- $refs = append $refs (dict "name" .) -}}
{{- else -}}
{{- $refs = append $refs . -}}
{{- end -}}
{{- end -}}
{{- toJson $refs -}}
{{- end }}

{{- define "dg.jupyterhubToken" -}}
{{- if eq (dig "auth" "type" "" .Values.gateway) "jupyterhub" -}}
{{- dig "auth" "jupyterhub" "apiToken" "" .Values.gateway -}}
{{- end -}}
{{- end }}

{{- define "dg.traefikName" -}}
{{- printf "traefik-%s" (include "dg.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end }}
