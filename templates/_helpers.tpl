{{/* Standard labels of the umbrella's own objects. */}}
{{- define "proyecto4.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: proyecto4
{{- end -}}

{{/*
The umbrella's full name, from the context of any chart of the release (the subcharts'
templated values call it): the release name when it contains "proyecto4", else
<release>-proyecto4. Default Secret names derive from it, so two releases never share one.
args: a root context
*/}}
{{- define "proyecto4.fullname" -}}
{{- if contains "proyecto4" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-proyecto4" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Name of one of the platform's Secrets, from the context of any chart of the release:
global.platform.<key>.secretName, templated (its default derives from proyecto4.fullname).
args: ctx, key (dataDatabase, airflowAdmin, mlflowDatabase, mlflowAuth, objectStore)
*/}}
{{- define "proyecto4.secretName" -}}
{{- tpl (index .ctx.Values.global.platform .key).secretName .ctx -}}
{{- end -}}

{{/*
Service name of a component of this release, as the chart that renders it computes it
(the usual <release>-<chart> rule with nameOverride/fullnameOverride, the release name alone
when it contains the chart's name; Airflow's <fullname>-api-server; the Bitnami charts'
-primary Service in replication; kube-prometheus-stack's 26-character prefix). Every
in-cluster address of the platform comes from here. args: ctx, name (a dependency's name,
or "airflow", "prometheus", "grafana")
*/}}
{{- define "proyecto4.serviceName" -}}
{{- $ctx := .ctx -}}
{{- $release := $ctx.Release.Name -}}
{{- if eq .name "locust" -}}
{{- printf "%s-master" (include "proyecto4.conventionalFullname" (dict "values" $ctx.Values.locust "chart" "locust" "release" $release)) | trunc 63 | trimSuffix "-" -}}
{{- else if eq .name "airflow" -}}
{{- printf "%s-api-server" ($ctx.Values.airflow.fullnameOverride | default $release | trunc 63 | trimSuffix "-") -}}
{{- else if eq .name "prometheus" -}}
{{- $kps := index $ctx.Values "kube-prometheus-stack" -}}
{{- $prefix := $kps.fullnameOverride | default (include "proyecto4.conventionalFullname" (dict "values" $kps "chart" "kube-prometheus-stack" "release" $release)) | trunc 26 | trimSuffix "-" -}}
{{- printf "%s-prometheus" $prefix -}}
{{- else if eq .name "grafana" -}}
{{- include "proyecto4.conventionalFullname" (dict "values" (index $ctx.Values "kube-prometheus-stack").grafana "chart" "grafana" "release" $release) -}}
{{- else -}}
{{- $values := index $ctx.Values .name | default dict -}}
{{- $name := include "proyecto4.conventionalFullname" (dict "values" $values "chart" .name "release" $release) -}}
{{- if and (has .name (list "postgresql" "mysql")) (eq ($values.architecture | default "standalone") "replication") -}}
{{- printf "%s-primary" $name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Helm's usual fullname of a chart from its values: fullnameOverride, else <release>-<nameOverride or chart>, the release alone when it contains that name. args: values, chart, release */}}
{{- define "proyecto4.conventionalFullname" -}}
{{- if .values.fullnameOverride -}}
{{- .values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := .values.nameOverride | default .chart -}}
{{- if contains $name .release -}}
{{- .release | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .release $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Port of a component's Service, from the value its own chart listens on: service.port of our
subcharts, airflow.ports.apiServer, the Bitnami charts' primary/API Service ports.
args: ctx, name (as in proyecto4.serviceName)
*/}}
{{- define "proyecto4.servicePort" -}}
{{- $v := index .ctx.Values (has .name (list "prometheus" "grafana") | ternary "kube-prometheus-stack" .name) | default dict -}}
{{- if eq .name "airflow" -}}{{ include "proyecto4.airflowApiPort" .ctx }}
{{- else if eq .name "postgresql" -}}{{ ((($v.primary | default dict).service | default dict).ports | default dict).postgresql | default 5432 }}
{{- else if eq .name "mysql" -}}{{ ((($v.primary | default dict).service | default dict).ports | default dict).mysql | default 3306 }}
{{- else if eq .name "minio" -}}{{ (($v.service | default dict).ports | default dict).api | default 9000 }}
{{- else if eq .name "prometheus" -}}{{ (($v.prometheus | default dict).service | default dict).port | default 9090 }}
{{- else if eq .name "grafana" -}}{{ (($v.grafana | default dict).service | default dict).port | default 80 }}
{{- else -}}{{ required (printf "%s.service.port is not set" .name) ($v.service | default dict).port }}
{{- end -}}
{{- end -}}

{{/* Name of the ConfigMap of in-cluster addresses (templates/configmap-addresses.yaml), from any chart's context. args: a root context */}}
{{- define "proyecto4.addressesName" -}}
{{- printf "%s-addresses" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the ConfigMap describing the release for operators' tools (templates/configmap-release.yaml). args: a root context */}}
{{- define "proyecto4.releaseFactsName" -}}
{{- printf "%s-release" (include "proyecto4.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* host:port of a component of this release. args: ctx, name (as in proyecto4.serviceName) */}}
{{- define "proyecto4.address" -}}
{{- printf "%s:%v" (include "proyecto4.serviceName" .) (include "proyecto4.servicePort" .) -}}
{{- end -}}

{{/* http://host:port of a component of this release. args: ctx, name (as in proyecto4.serviceName) */}}
{{- define "proyecto4.url" -}}
{{- printf "http://%s" (include "proyecto4.address" .) -}}
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

{{/* Port of Airflow's API server: airflow.ports.apiServer, else that chart's default 8080. args: ctx */}}
{{- define "proyecto4.airflowApiPort" -}}
{{- (.Values.airflow.ports | default dict).apiServer | default 8080 -}}
{{- end -}}

{{/* S3 API of the artifact store: mlflow.env.MLFLOW_S3_ENDPOINT_URL (templated) when set, else the in-cluster MinIO when minio.enabled, else empty (AWS S3). args: root context */}}
{{- define "proyecto4.objectStoreUrl" -}}
{{- $configured := tpl ((.Values.mlflow.env | default dict).MLFLOW_S3_ENDPOINT_URL | default "") . -}}
{{- if $configured -}}
{{- $configured -}}
{{- else if .Values.minio.enabled -}}
{{- include "proyecto4.url" (dict "ctx" . "name" "minio") -}}
{{- end -}}
{{- end -}}
