{{/* Shallow overlay of a values map on defaults (unlike merge, an explicit false wins). args: defaults, values */}}
{{- define "proyecto4-lib.overlay" -}}
{{- $out := deepCopy .defaults -}}
{{- range $key, $value := .values | default dict -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Pod securityContext: .Values.podSecurityContext over non-root uid 10001 with the RuntimeDefault seccomp profile. */}}
{{- define "proyecto4-lib.podSecurityContext" -}}
{{- $default := dict "runAsNonRoot" true "runAsUser" 10001 "runAsGroup" 10001 "fsGroup" 10001 "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- include "proyecto4-lib.overlay" (dict "defaults" $default "values" .Values.podSecurityContext) -}}
{{- end -}}

{{/* Container securityContext: .Values.securityContext over no privilege escalation, no capabilities, read-only root. */}}
{{- define "proyecto4-lib.securityContext" -}}
{{- $default := dict "runAsNonRoot" true "allowPrivilegeEscalation" false "readOnlyRootFilesystem" true "privileged" false "capabilities" (dict "drop" (list "ALL")) -}}
{{- include "proyecto4-lib.overlay" (dict "defaults" $default "values" .Values.securityContext) -}}
{{- end -}}

{{/* serviceAccount values with defaults: created, no API token mounted. */}}
{{- define "proyecto4-lib.serviceAccountValues" -}}
{{- include "proyecto4-lib.overlay" (dict "defaults" (dict "create" true "name" "" "automountServiceAccountToken" false) "values" .Values.serviceAccount) -}}
{{- end -}}
