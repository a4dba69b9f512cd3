{{/* Labels of every Application this chart renders. */}}
{{- define "proyecto4-argocd.labels" -}}
app.kubernetes.io/name: proyecto4
app.kubernetes.io/part-of: proyecto4
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* An Application's syncPolicy from the shared settings merged with an override dict. */}}
{{- define "proyecto4-argocd.syncPolicy" -}}
{{- $policy := mergeOverwrite (deepCopy .root.Values.syncPolicy) (.override | default dict) -}}
{{- if $policy.automated }}
automated:
  prune: {{ $policy.prune }}
  selfHeal: {{ $policy.selfHeal }}
{{- end }}
syncOptions:
  - CreateNamespace=true
  # Delete objects only after the new ones are healthy.
  - PruneLast=true
  # Big CRDs and ConfigMaps (Grafana dashboards) exceed client-side apply's annotation limit.
  - ServerSideApply=true
  {{- if .keepSecretData }}
  # Syncs keep the live value of what ignoreDifferences names (the Secrets' data).
  - RespectIgnoreDifferences=true
  {{- end }}
retry:
  limit: {{ $policy.retryLimit }}
  backoff:
    duration: 10s
    factor: 2
    maxDuration: 5m
{{- end }}
