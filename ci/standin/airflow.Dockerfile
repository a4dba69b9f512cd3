# Stand-in for apache/airflow:3.3.2-python3.11, which no registry here serves: Airflow and the
# providers the official image ships and our chart uses, at the versions of uv.lock, on the
# Debian Python stand-in. It keeps the official image's conventions that services/airflow/
# Dockerfile and the Airflow chart rely on (user airflow uid 50000 gid 0, AIRFLOW_HOME=/opt/airflow,
# packages in the user's site with PIP_USER, `airflow` on PATH, dumb-init + /entrypoint) and
# nothing the official image lacks. Built by ci/images.py (--bases standin); test use only.
ARG PYTHON_IMAGE

FROM ${PYTHON_IMAGE} AS lock
ARG SSL_CERT_FILE
RUN --mount=type=cache,target=/root/.cache/pip pip install uv==0.13.9
WORKDIR /src
COPY . .
# Airflow's side of the image only: the pipeline's dependencies are services/airflow/Dockerfile's.
RUN uv export --quiet --frozen --no-dev --no-emit-workspace --package proyecto4-airflow-image \
      --prune proyecto4-pipeline -o /requirements.txt

FROM ${PYTHON_IMAGE}
ARG PIP_CERT
# Debian's packages unpinned: the base image's release fixes their versions (DL3008).
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends dumb-init \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 50000 --gid 0 --create-home --home-dir /home/airflow airflow \
 && mkdir -p /opt/airflow/dags /opt/airflow/logs && chown -R 50000:0 /opt/airflow && chmod -R g+rwX /opt/airflow
COPY ci/standin/entrypoint.sh /entrypoint
ENV AIRFLOW_HOME=/opt/airflow AIRFLOW_USER_HOME_DIR=/home/airflow PIP_USER=true \
    PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 50000:0
COPY --from=lock /requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/home/airflow/.cache/pip,uid=50000 \
    pip install --require-hashes --no-deps -r /tmp/requirements.txt
WORKDIR /opt/airflow
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
CMD []
