{{/* Deployment of one component. args: ctx, component, v (values subtree), initContainers, env (see podSpec) */}}
{{- define "proyecto4-lib.deployment" -}}
{{- $v := .v | default .ctx.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "proyecto4-lib.componentName" . }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" . | nindent 4 }}
spec:
  {{- if not (and .ctx.Values.autoscaling .ctx.Values.autoscaling.enabled) }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "proyecto4-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- include "proyecto4-lib.podMetadata" . | nindent 6 }}
    spec:
      {{- include "proyecto4-lib.podSpec" . | nindent 6 }}
{{- end -}}

{{/* An env entry read from a Secret's key. args: name (variable), secret, key */}}
{{- define "proyecto4-lib.secretEnv" -}}
{{- dict "name" .name "valueFrom" (dict "secretKeyRef" (dict "name" .secret "key" .key)) | toYaml -}}
{{- end -}}

{{/* ConfigMap with the plain environment of the chart's containers (.Values.env, values templated). */}}
{{- define "proyecto4-lib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "proyecto4-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" (dict "ctx" .) | nindent 4 }}
  {{- with .Values.setupAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
data:
  {{- range $name, $value := .Values.env }}
  {{ $name }}: {{ tpl (toString $value) $ | quote }}
  {{- end }}
{{- end -}}

{{/* ServiceAccount; no API token is mounted unless serviceAccount.automountServiceAccountToken. */}}
{{- define "proyecto4-lib.serviceaccount" -}}
{{- $sa := include "proyecto4-lib.serviceAccountValues" . | fromYaml -}}
{{- if $sa.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "proyecto4-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" (dict "ctx" .) | nindent 4 }}
  {{- with merge (deepCopy ($sa.annotations | default dict)) (.Values.setupAnnotations | default dict) }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ $sa.automountServiceAccountToken }}
{{- end -}}
{{- end -}}

{{/* `helm test` pod: GETs path on the Service and fails unless it answers 2xx. args: ctx, path, port, component */}}
{{- define "proyecto4-lib.testPod" -}}
{{- $ctx := .ctx -}}
{{- $name := include "proyecto4-lib.componentName" . -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ printf "%s-test" $name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" (dict "ctx" $ctx "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    {{- include "proyecto4-lib.podSecurityContext" $ctx | nindent 4 }}
  containers:
    - name: http-check
      image: {{ include "proyecto4-lib.image" $ctx }}
      command:
        - python
        - -c
        - |
          import sys, urllib.request
          url = sys.argv[1]
          with urllib.request.urlopen(url, timeout=10) as answer:
              print(url, answer.status)
              sys.exit(0 if 200 <= answer.status < 300 else 1)
        - {{ printf "http://%s:%v%s" $name .port .path | quote }}
      resources:
        requests: {cpu: 10m, memory: 32Mi}
        limits: {cpu: 100m, memory: 64Mi}
      securityContext:
        {{- include "proyecto4-lib.securityContext" $ctx | nindent 8 }}
{{- end -}}
