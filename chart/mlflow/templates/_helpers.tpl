{{/* Init container: waits until the backend store's schema is at the head revision of the image's MLflow. */}}
{{- define "mlflow.waitForSchemaContainer" -}}
name: wait-for-schema
image: {{ include "proyecto4-lib.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" }}
command:
  - python
  - -c
  - |
    import os, time
    from mlflow.store.db import utils
    engine = utils.create_sqlalchemy_engine(os.environ["MLFLOW_BACKEND_STORE_URI"])
    while True:
        try:
            utils._verify_schema(engine)
            break
        except Exception as error:  # database down or schema not migrated yet
            print("waiting for the migration Job:", str(error).splitlines()[0], flush=True)
            time.sleep(5)
envFrom:
  {{- range .Values.envFromSecrets }}
  - secretRef:
      name: {{ tpl . $ }}
  {{- end }}
env:
  - {name: HOME, value: /tmp}
resources:
  {{- toYaml .Values.migration.resources | nindent 2 }}
securityContext:
  {{- include "proyecto4-lib.securityContext" . | nindent 2 }}
volumeMounts:
  - {name: writable-0, mountPath: /tmp}
{{- end -}}

{{/* Name of the Secret with the users' credentials (auth.secretName, templated); fails when unset. */}}
{{- define "mlflow.authSecret" -}}
{{- required "mlflow.auth.secretName: name the Secret with the MLflow users' credentials" (tpl (.Values.auth.secretName | default "") .) -}}
{{- end -}}

{{/* One env entry read from the auth Secret. args: ctx, name, key */}}
{{- define "mlflow.authSecretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "mlflow.authSecret" .ctx }}
      key: {{ .key }}
{{- end -}}

{{/* Environment of the server with auth on: where its auth configuration is and the CSRF key all pods share. */}}
{{- define "mlflow.authServerEnv" -}}
- name: MLFLOW_AUTH_CONFIG_PATH
  value: {{ .Values.auth.configPath | quote }}
{{ include "mlflow.authSecretEnv" (dict "ctx" . "name" "MLFLOW_FLASK_SERVER_SECRET_KEY" "key" "flask-secret-key") }}
{{- end -}}

{{/*
Init container: writes the auth configuration (with the users' store URI, from
envFromSecrets' MLFLOW_AUTH_DATABASE_URI) into the pod's /tmp and creates or updates the
admin, pipeline and reader users from the auth Secret (services/mlflow/proyecto4_mlflow/auth.py).
*/}}
{{- define "mlflow.authSetupContainer" -}}
name: auth-setup
image: {{ include "proyecto4-lib.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" }}
command: [python, -m, proyecto4_mlflow.auth]
envFrom:
  {{- range .Values.envFromSecrets }}
  - secretRef:
      name: {{ tpl . $ }}
  {{- end }}
env:
  - {name: HOME, value: /tmp}
  - name: MLFLOW_AUTH_CONFIG_PATH
    value: {{ .Values.auth.configPath | quote }}
  {{- range $role := list "admin" "pipeline" "reader" }}
  {{- $prefix := ternary "MLFLOW_AUTH_ADMIN" (printf "PROYECTO4_MLFLOW_%s" (upper $role)) (eq $role "admin") }}
  {{- include "mlflow.authSecretEnv" (dict "ctx" $ "name" (printf "%s_USERNAME" $prefix) "key" (printf "%s-username" $role)) | nindent 2 }}
  {{- include "mlflow.authSecretEnv" (dict "ctx" $ "name" (printf "%s_PASSWORD" $prefix) "key" (printf "%s-password" $role)) | nindent 2 }}
  {{- end }}
resources:
  {{- toYaml .Values.migration.resources | nindent 2 }}
securityContext:
  {{- include "proyecto4-lib.securityContext" . | nindent 2 }}
volumeMounts:
  - {name: writable-0, mountPath: /tmp}
{{- end -}}
