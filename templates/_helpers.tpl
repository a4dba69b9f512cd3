{{/* Standard labels of the umbrella's own objects. */}}
{{- define "proyecto4.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: proyecto4
{{- end -}}

{{/* Service name of a dependency chart, as Bitnami's common.names.fullname computes it. args: ctx, name */}}
{{- define "proyecto4.dependencyHost" -}}
{{- $values := index .ctx.Values .name -}}
{{- if $values.fullnameOverride -}}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .name .ctx.Release.Name -}}
{{- .ctx.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .ctx.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
A generated secret value that survives upgrades: the key of the Secret already in the
cluster when there is one (lookup), else `fresh` or a new random alphanumeric string.
args: ctx, secret, key, length (default 24), fresh
*/}}
{{- define "proyecto4.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- .fresh | default (randAlphaNum (.length | default 24)) -}}
{{- end -}}
{{- end -}}

{{/* One generated Secret (kept on uninstall, so a reinstall finds the same passwords). args: ctx, name, data (map of plain strings) */}}
{{- define "proyecto4.generatedSecret" -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4.labels" .ctx | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
    # Argo CD: before the databases (-2) and migrations (-1) that read them.
    argocd.argoproj.io/sync-wave: "-3"
type: Opaque
data:
  {{- range $key, $value := .data }}
  {{ $key }}: {{ $value | b64enc | quote }}
  {{- end }}
{{- end -}}

{{/* Name prefix of the Airflow chart's objects (its airflow.fullname). args: ctx */}}
{{- define "proyecto4.airflowFullname" -}}
{{- .Values.airflow.fullnameOverride | default .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Port of Airflow's API server: airflow.ports.apiServer, else that chart's default 8080. args: ctx */}}
{{- define "proyecto4.airflowApiPort" -}}
{{- (.Values.airflow.ports | default dict).apiServer | default 8080 -}}
{{- end -}}
