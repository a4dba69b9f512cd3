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
