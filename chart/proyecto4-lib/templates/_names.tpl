{{/* Chart name, overridable with nameOverride. */}}
{{- define "proyecto4-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or fullnameOverride; the release name alone when it already contains the chart name. */}}
{{- define "proyecto4-lib.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "proyecto4-lib.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component of a chart (locust master/worker): fullname plus suffix. args: ctx, component */}}
{{- define "proyecto4-lib.componentName" -}}
{{- $full := include "proyecto4-lib.fullname" .ctx -}}
{{- if .component -}}{{ printf "%s-%s" $full .component | trunc 63 | trimSuffix "-" }}{{- else -}}{{ $full }}{{- end -}}
{{- end -}}

{{/* Labels that select the pods of one component (default component: server). args: ctx, component */}}
{{- define "proyecto4-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "proyecto4-lib.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component | default "server" }}
{{- end -}}

{{/* Standard app.kubernetes.io labels of every object. args: ctx, component */}}
{{- define "proyecto4-lib.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "proyecto4-lib.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: proyecto4
{{- end -}}

{{/* ServiceAccount the pods run as. */}}
{{- define "proyecto4-lib.serviceAccountName" -}}
{{- $sa := include "proyecto4-lib.serviceAccountValues" . | fromYaml -}}
{{- if $sa.create -}}
{{- default (include "proyecto4-lib.fullname" .) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag; global.proyecto4.imageRegistry and imageTag apply to all our images. */}}
{{- define "proyecto4-lib.image" -}}
{{- $g := (.Values.global | default dict).proyecto4 | default dict -}}
{{- $registry := .Values.image.registry | default $g.imageRegistry -}}
{{- $tag := .Values.image.tag | default $g.imageTag | default .Chart.AppVersion -}}
{{- if $registry -}}{{ printf "%s/%s:%s" $registry .Values.image.repository $tag }}{{- else -}}{{ printf "%s:%s" .Values.image.repository $tag }}{{- end -}}
{{- end -}}
