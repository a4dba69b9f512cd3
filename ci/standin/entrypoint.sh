#!/usr/bin/env bash
# Stand-in for the official Airflow image's /entrypoint, reduced to the command dispatch the
# Airflow chart and our Dockerfile rely on: `bash ...` and `python ...` run as given, anything
# else is an `airflow` subcommand (with or without a leading `airflow`).
set -euo pipefail
case "${1:-}" in
    bash) shift; exec /bin/bash "$@" ;;
    python) shift; exec python "$@" ;;
    airflow) shift ;;
esac
exec airflow "$@"
