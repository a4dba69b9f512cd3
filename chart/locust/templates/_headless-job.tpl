{{/*
The headless Job: job-headless.yaml applies it in `mode: headless`, and the loadtest-job
ConfigMap carries it for `helm proyecto4 loadtest`, which runs it with its own --users,
--spawn-rate and --run-time, so both runs are one definition.
*/}}
{{- define "locust.headlessJob" -}}
{{- $h := .Values.headless }}
{{- $ctx := dict "ctx" . "component" "headless" }}
{{- $args := list "--headless" "--users" (toString $h.users) "--spawn-rate" (toString $h.spawnRate) "--run-time" $h.runTime "--csv" "/tmp/locust" "--print-stats" "--only-summary" }}
apiVersion: batch/v1
kind: Job
metadata:
  # The revision in the name: a Job is immutable, each upgrade starts a new run.
  name: {{ printf "%s-%d" (include "proyecto4-lib.componentName" $ctx) .Release.Revision }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" $ctx | nindent 4 }}
spec:
  backoffLimit: {{ $h.backoffLimit }}
  ttlSecondsAfterFinished: {{ $h.ttlSecondsAfterFinished }}
  template:
    metadata:
      {{- include "proyecto4-lib.podMetadata" $ctx | nindent 6 }}
    spec:
      {{- include "proyecto4-lib.podSpec" (merge (dict "restartPolicy" "Never" "v" (dict "command" .Values.command "args" $args "resources" $h.resources)) $ctx) | nindent 6 }}
{{- end }}
