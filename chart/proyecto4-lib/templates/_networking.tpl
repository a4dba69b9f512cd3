{{/* Service of one component. args: ctx, component, ports (list of {name, port, nodePort?}) */}}
{{- define "proyecto4-lib.service" -}}
{{- $svc := include "proyecto4-lib.overlay" (dict "defaults" (dict "type" "ClusterIP") "values" .ctx.Values.service) | fromYaml -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "proyecto4-lib.componentName" . }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" . | nindent 4 }}
  {{- with $svc.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $svc.type }}
  selector:
    {{- include "proyecto4-lib.selectorLabels" . | nindent 4 }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
      {{- if and (eq $svc.type "NodePort") .nodePort }}
      nodePort: {{ .nodePort }}
      {{- end }}
    {{- end }}
{{- end -}}

{{/* Ingress to the component's Service when ingress.enabled. args: ctx, component, port */}}
{{- define "proyecto4-lib.ingress" -}}
{{- $ing := .ctx.Values.ingress | default dict -}}
{{- if $ing.enabled -}}
{{- $svc := include "proyecto4-lib.componentName" . -}}
{{- $port := .port -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $svc }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" . | nindent 4 }}
  {{- with $ing.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $ing.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with $ing.tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range $ing.hosts }}
    - host: {{ .host | quote }}
      http:
        paths:
          - path: {{ .path | default "/" }}
            pathType: Prefix
            backend:
              service:
                name: {{ $svc }}
                port:
                  number: {{ $port }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/*
NetworkPolicy: ingress only on the component's ports, from the pods of this namespace
(Airflow's task pods and Prometheus carry no label of ours), the
namespaces in networkPolicy.allowedNamespaces (ingress controller, monitoring), anywhere
when networkPolicy.allowExternalIngress (NodePorts), and the
selectors in networkPolicy.extraFrom (no ingress at all without ports); egress to DNS, to pods of this namespace and, when
networkPolicy.allowExternalEgress, anywhere. args: ctx, component, ports (list of numbers)
*/}}
{{- define "proyecto4-lib.networkpolicy" -}}
{{- $np := include "proyecto4-lib.overlay" (dict "defaults" (dict "enabled" true) "values" .ctx.Values.networkPolicy) | fromYaml -}}
{{- if $np.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "proyecto4-lib.componentName" . }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "proyecto4-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  {{- if not .ports }}
  ingress: []
  {{- else }}
  ingress:
    - ports:
        {{- range .ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      from:
        - podSelector: {}
        {{- range $np.allowedNamespaces }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . }}
        {{- end }}
        {{- if $np.allowExternalIngress }}
        - ipBlock:
            cidr: 0.0.0.0/0
        {{- end }}
        {{- with $np.extraFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  {{- end }}
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    - to:
        - podSelector: {}
    {{- if $np.allowExternalEgress }}
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
    {{- end }}
{{- end -}}
{{- end -}}

{{/* PodDisruptionBudget when podDisruptionBudget.enabled. args: ctx, component */}}
{{- define "proyecto4-lib.pdb" -}}
{{- $pdb := .ctx.Values.podDisruptionBudget | default dict -}}
{{- if $pdb.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "proyecto4-lib.componentName" . }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "proyecto4-lib.labels" . | nindent 4 }}
spec:
  {{- if $pdb.minAvailable }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "proyecto4-lib.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}
