{{/* Name of the backup objects (CronJob, ConfigMap, NetworkPolicy): <release>-backup. args: root context */}}
{{- define "proyecto4.backup.name" -}}
{{ printf "%s-backup" .Release.Name | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/* Labels of the backup objects and pods; helm proyecto4 finds the CronJob by app.kubernetes.io/component=backup. args: root context */}}
{{- define "proyecto4.backup.labels" -}}
{{ include "proyecto4.labels" . }}
app.kubernetes.io/component: backup
{{- end }}

{{/* registry/repository:tag of one backup image. args: an image map {registry, repository, tag} */}}
{{- define "proyecto4.backup.image" -}}
{{- if .registry }}{{ .registry }}/{{ end }}{{ .repository }}:{{ .tag }}
{{- end }}

{{/* S3 endpoint of the artifact store (proyecto4.objectStoreUrl), AWS when empty. args: root context */}}
{{- define "proyecto4.backup.artifactsEndpoint" -}}
{{- include "proyecto4.objectStoreUrl" . | default "https://s3.amazonaws.com" -}}
{{- end }}

{{/* An environment variable from a key of a Secret. args: name, secret, key */}}
{{- define "proyecto4.backup.secretEnv" -}}
name: {{ .name }}
valueFrom:
  secretKeyRef:
    name: {{ .secret }}
    key: {{ .key }}
{{- end }}
