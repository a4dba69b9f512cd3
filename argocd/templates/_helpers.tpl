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

{{/*
"true" when environment .name installs the cluster-wide objects on its cluster (its
`server`): kube-prometheus-stack's CRDs and its Prometheus Operator with the admission
webhooks. Kubernetes has one of each per cluster, so exactly one environment per server
installs them: the one with `clusterWide: true`, or the only environment on that server.
*/}}
{{- define "proyecto4-argocd.clusterWide" -}}
{{- $env := index .root.Values.environments .name -}}
{{- $peers := list -}}
{{- $owners := list -}}
{{- range $name, $other := .root.Values.environments -}}
{{- if and $other.enabled (eq $other.server $env.server) -}}
{{- $peers = append $peers $name -}}
{{- if $other.clusterWide -}}{{- $owners = append $owners $name -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if gt (len $owners) 1 -}}
{{- fail (printf "environments %s share server %s and all set clusterWide: only one may install the CRDs and the operator" (join ", " $owners) $env.server) -}}
{{- else if and (eq (len $owners) 0) (gt (len $peers) 1) -}}
{{- fail (printf "environments %s share server %s: set clusterWide: true on the one that installs the CRDs and the operator" (join ", " $peers) $env.server) -}}
{{- end -}}
{{- if or (has .name $owners) (eq (len $peers) 1) }}true{{ end -}}
{{- end }}

{{/* Two environments on one server must not share a release name: the charts name their
cluster-scoped objects (ClusterRoles, webhooks) after it. */}}
{{- define "proyecto4-argocd.checkReleaseNames" -}}
{{- $seen := dict -}}
{{- range $name, $env := .Values.environments -}}
{{- if $env.enabled -}}
{{- $key := printf "%s %s" $env.server $env.releaseName -}}
{{- if hasKey $seen $key -}}
{{- fail (printf "environments %s and %s both use release name %s on server %s: their ClusterRoles and webhooks would be one object" (get $seen $key) $name $env.releaseName $env.server) -}}
{{- end -}}
{{- $_ := set $seen $key $name -}}
{{- end -}}
{{- end -}}
{{- end }}
