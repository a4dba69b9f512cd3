{{/* Labels of every monitoring object: the chart's standard labels plus the kube-prometheus-stack release label its Prometheus selects on. */}}
{{- define "proyecto4.monitoring.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: monitoring
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
release: {{ .Values.monitoring.prometheusRelease | default .Release.Name | quote }}
{{- end }}

{{/* The `job` label of the API's series: set by the ServiceMonitor, matched by the alert rules. */}}
{{- define "proyecto4.monitoring.apiJob" -}}
{{ printf "%s-inference-api" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of a monitoring object: <release>-<suffix>, within the 63 characters of a label value. */}}
{{- define "proyecto4.monitoring.name" -}}
{{ printf "%s-%s" .root.Release.Name .suffix | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "true" when the Prometheus Operator CRDs will exist: our kube-prometheus-stack installs them, or the cluster already serves them (helm install, Argo CD); else the ServiceMonitor and PrometheusRule would fail the install. */}}
{{- define "proyecto4.monitoring.operatorCrds" -}}
{{- $kps := index .Values "kube-prometheus-stack" | default dict -}}
{{- if or $kps.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}true{{- end -}}
{{- end }}
