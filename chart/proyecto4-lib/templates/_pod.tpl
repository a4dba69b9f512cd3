{{/*
Pod spec shared by Deployments, Jobs and test pods.
args: ctx (chart root), component, v (values subtree with command/args/resources/probes;
defaults to ctx.Values), initContainers (list), restartPolicy, env (list of env entries the
chart itself adds, e.g. secretKeyRefs, before extraEnv).
Security defaults: non-root, no privilege escalation, all capabilities dropped, read-only
root filesystem with emptyDirs for the folders the program writes (.Values.writableDirs).
*/}}
{{- define "proyecto4-lib.podSpec" -}}
{{- $ctx := .ctx -}}
{{- $v := .v | default $ctx.Values -}}
{{- $fullname := include "proyecto4-lib.fullname" $ctx -}}
serviceAccountName: {{ include "proyecto4-lib.serviceAccountName" $ctx }}
automountServiceAccountToken: {{ (include "proyecto4-lib.serviceAccountValues" $ctx | fromYaml).automountServiceAccountToken }}
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "proyecto4-lib.podSecurityContext" $ctx | nindent 2 }}
{{- with .restartPolicy }}
restartPolicy: {{ . }}
{{- end }}
{{- with .initContainers }}
initContainers:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: {{ .component | default (include "proyecto4-lib.name" $ctx) }}
    image: {{ include "proyecto4-lib.image" $ctx }}
    imagePullPolicy: {{ $ctx.Values.image.pullPolicy | default "IfNotPresent" }}
    {{- with $v.command }}
    command:
      {{- tpl (toYaml .) $ctx | nindent 6 }}
    {{- end }}
    {{- with $v.args }}
    args:
      {{- tpl (toYaml .) $ctx | nindent 6 }}
    {{- end }}
    {{- with $v.ports }}
    ports:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    envFrom:
      - configMapRef:
          name: {{ $fullname }}
      {{- range $ctx.Values.envFromSecrets }}
      - secretRef:
          name: {{ tpl . $ctx }}
      {{- end }}
    {{- if or .env $ctx.Values.extraEnv }}
    env:
      {{- with .env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- with $ctx.Values.extraEnv }}
      {{- tpl (toYaml .) $ctx | nindent 6 }}
      {{- end }}
    {{- end }}
    {{- range $kind, $probe := $v.probes }}
    {{ $kind }}Probe:
      {{- toYaml $probe | nindent 6 }}
    {{- end }}
    resources:
      {{- toYaml $v.resources | nindent 6 }}
    securityContext:
      {{- include "proyecto4-lib.securityContext" $ctx | nindent 6 }}
    volumeMounts:
      {{- range $i, $dir := ($ctx.Values.writableDirs | default (list "/tmp")) }}
      - name: writable-{{ $i }}
        mountPath: {{ $dir }}
      {{- end }}
      {{- with $ctx.Values.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  {{- range $i, $dir := ($ctx.Values.writableDirs | default (list "/tmp")) }}
  - name: writable-{{ $i }}
    emptyDir:
      sizeLimit: 256Mi
  {{- end }}
  {{- with $ctx.Values.extraVolumes }}
  {{- tpl (toYaml .) $ctx | nindent 2 }}
  {{- end }}
{{- with $ctx.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod template metadata: labels plus a checksum of the config so a change rolls the pods. args: ctx, component */}}
{{- define "proyecto4-lib.podMetadata" -}}
labels:
  {{- include "proyecto4-lib.labels" . | nindent 2 }}
annotations:
  checksum/config: {{ toYaml .ctx.Values.env | sha256sum | trunc 16 }}
  {{- with .ctx.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}
