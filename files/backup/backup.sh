#!/bin/bash
# proyecto4 backup and restore, one step per container of the backup CronJob's pod
# (templates/backup-cronjob.yaml): `backup.sh postgresql|mysql|objects`, each in the image
# that has its tool (pg_dump, mysqldump, mc). The containers share /backup (an emptyDir).
#
# BACKUP_ACTION=backup (the CronJob): postgresql and mysql dump into /backup, then objects
#   copies the artifact prefix into /backup/artifacts, writes SHA256SUMS and manifest.json and
#   uploads everything to <destination>/<id>/ (the manifest last: a backup without one is
#   unfinished), then deletes backups older than the retention.
# BACKUP_ACTION=restore (helm proyecto4 restore runs the containers as objects, postgresql,
#   mysql): objects downloads <destination>/<BACKUP_ID>/ and checks every checksum, then puts
#   the artifacts back; postgresql and mysql load their dumps.
#
# The layout is the one `helm proyecto4 backup` writes in URL mode (plugin/proyecto4_plugin/
# names.py BACKUP_*), so each side restores the other's backups.
set -euo pipefail

step="$1"
action="${BACKUP_ACTION:-backup}"
# The pod's shared emptyDir; another folder when the script runs outside the pod (tests).
work="${BACKUP_WORK:-/backup}"
tmp="${TMPDIR:-/tmp}"
mkdir -p "$work"

log() { echo "$(date -u +%H:%M:%S) [$step] $*"; }

# One id for the whole pod: the first step makes it, the others read it.
backup_id() {
    if [ -n "${BACKUP_ID:-}" ]; then echo "$BACKUP_ID"; return; fi
    [ -s "$work/.id" ] || date -u +%Y%m%dT%H%M%SZ >"$work/.id"
    cat "$work/.id"
}

# postgresql+psycopg://... (SQLAlchemy) -> postgresql://... (libpq). The whole URL goes to
# libpq as the database name: it decodes the password and honours ?sslmode=... itself.
libpq_url() { sed -E 's#^[a-z]+(\+[a-z0-9_]+)?://#postgresql://#' <<<"$1"; }

pg_parts() {
    # part:env-variable of each PostgreSQL database in this backup (unset: not backed up).
    echo "data:DATA_DB_URL"
    [ -z "${AIRFLOW_DB_URL:-}" ] || echo "airflow:AIRFLOW_DB_URL"
}

step_postgresql() {
    local entry part var url
    for entry in $(pg_parts); do
        part="${entry%%:*}"; var="${entry#*:}"; url="$(libpq_url "${!var}")"
        if [ "$action" = backup ]; then
            backup_id >/dev/null
            log "pg_dump $part"
            pg_dump --format=custom --file="$work/$part.pgdump" --dbname="$url"
        elif [ -f "$work/$part.pgdump" ]; then
            # Same options as the plugin's URL mode (stores.restore_postgresql).
            log "pg_restore $part"
            pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
                --exit-on-error --dbname="$url" "$work/$part.pgdump"
        else
            log "backup has no $part.pgdump: $part left as it is"
        fi
    done
}

# mysql+pymysql://user:password@host:port/db -> an option file (a password on the command
# line would show in the process list) and the database name.
mysql_login() {
    local rest="${1#*://}" creds hostport user password host port db
    creds="${rest%@*}"; rest="${rest##*@}"
    hostport="${rest%%/*}"; db="${rest#*/}"; db="${db%%\?*}"
    user="${creds%%:*}"; password=""
    [ "$creds" = "$user" ] || password="${creds#*:}"
    host="${hostport%%:*}"; port=3306
    [ "$hostport" = "$host" ] || port="${hostport##*:}"
    (umask 077 && printf '[client]\nuser=%b\npassword=%b\nhost=%s\nport=%s\n' \
        "${user//%/\\x}" "${password//%/\\x}" "$host" "$port" >"$tmp/my.cnf")
    echo "$db"
}

step_mysql() {
    local db gtid=()
    db="$(mysql_login "$MLFLOW_DB_URL")"
    if [ "$action" = backup ]; then
        backup_id >/dev/null
        # Oracle's mysqldump would write GTID_PURGED (SUPER to load it); MariaDB's lacks the option.
        mysqldump --version | grep -q MariaDB || gtid=(--set-gtid-purged=OFF)
        log "mysqldump mlflow"
        mysqldump --defaults-extra-file="$tmp/my.cnf" --single-transaction --routines --triggers \
            --no-tablespaces --hex-blob "${gtid[@]}" "$db" | gzip >"$work/mlflow.sql.gz"
    else
        log "mysql mlflow"
        gunzip -c "$work/mlflow.sql.gz" | mysql --defaults-extra-file="$tmp/my.cnf" "$db"
    fi
}

file_json() { printf '{"kind": "%s", "path": "%s", "bytes": %s, "sha256": "%s"}' \
    "$1" "$2" "$(stat -c %s "$work/$2")" "$(sha256sum "$work/$2" | cut -d' ' -f1)"; }

write_manifest() {
    local id="$1" started="$2" parts=() count bytes
    [ ! -f "$work/data.pgdump" ] || parts+=("\"data\": $(file_json postgresql data.pgdump)")
    [ ! -f "$work/airflow.pgdump" ] || parts+=("\"airflow\": $(file_json postgresql airflow.pgdump)")
    parts+=("\"mlflow\": $(file_json mysql mlflow.sql.gz)")
    count=$(find "$work/artifacts" -type f | wc -l)
    bytes=$(find "$work/artifacts" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    parts+=("\"artifacts\": {\"kind\": \"objects\", \"path\": \"artifacts\", \"objects\": $count, \"bytes\": $bytes}")
    local joined
    joined="$(printf '%s, ' "${parts[@]}")"
    printf '{"format": 1, "id": "%s", "started_at": "%s", "finished_at": "%s", "made_by": "%s", "sources": {"artifacts": "%s"}, "parts": {%s}, "checksums": {"file": "SHA256SUMS", "sha256": "%s"}}\n' \
        "$id" "$started" "$(date -u +%Y-%m-%dT%H:%M:%S+00:00)" "cronjob ${BACKUP_JOB_NAME:-backup}" \
        "$ARTIFACTS_URL" "${joined%, }" "$(sha256sum "$work/SHA256SUMS" | cut -d' ' -f1)" >"$work/manifest.json"
}

step_objects() {
    local id mc=(mc --config-dir "$tmp/mc" --quiet --no-color) src dst
    id="$(backup_id)"
    "${mc[@]}" alias set src "$ARTIFACTS_ENDPOINT" "$ARTIFACTS_ACCESS_KEY_ID" "$ARTIFACTS_SECRET_ACCESS_KEY" >/dev/null
    "${mc[@]}" alias set dst "$BACKUP_ENDPOINT" "$BACKUP_ACCESS_KEY_ID" "$BACKUP_SECRET_ACCESS_KEY" >/dev/null
    src="src/${ARTIFACTS_URL#s3://}"
    dst="dst/$BACKUP_BUCKET/$BACKUP_PREFIX"
    if [ "$action" = backup ]; then
        local started
        started="$(date -u -d "@$(stat -c %Y "$work/.id")" +%Y-%m-%dT%H:%M:%S+00:00)"
        log "copy $ARTIFACTS_URL"
        mkdir -p "$work/artifacts"
        "${mc[@]}" mirror "$src" "$work/artifacts" >/dev/null
        # SHA256SUMS: every file but the manifest and itself, in byte order (as the plugin).
        (cd "$work" && find . -type f ! -name .id ! -name manifest.json ! -name SHA256SUMS -printf '%P\n' \
            | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done) >"$work/SHA256SUMS"
        write_manifest "$id" "$started"
        "${mc[@]}" ls "dst/$BACKUP_BUCKET" >/dev/null 2>&1 || "${mc[@]}" mb "dst/$BACKUP_BUCKET"
        log "upload to $BACKUP_BUCKET/$BACKUP_PREFIX/$id"
        "${mc[@]}" mirror --exclude .id --exclude manifest.json "$work" "$dst/$id" >/dev/null
        "${mc[@]}" cp "$work/manifest.json" "$dst/$id/manifest.json" >/dev/null
        log "retention: deleting backups older than ${RETENTION_DAYS}d"
        "${mc[@]}" rm --recursive --force --older-than "${RETENTION_DAYS}d" "$dst/" >/dev/null || true
        cat "$work/manifest.json"
        log "backup $id complete: $(du -sh "$work" | cut -f1) in $BACKUP_BUCKET/$BACKUP_PREFIX/$id"
    else
        if [ "$id" = latest ]; then
            id="$("${mc[@]}" ls "$dst/" | awk '{print $NF}' | tr -d / | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort | tail -1)"
            [ -n "$id" ] || { log "no backup under $BACKUP_BUCKET/$BACKUP_PREFIX"; exit 1; }
        fi
        log "download $BACKUP_BUCKET/$BACKUP_PREFIX/$id"
        "${mc[@]}" stat "$dst/$id/manifest.json" >/dev/null || { log "no finished backup $id"; exit 1; }
        "${mc[@]}" mirror "$dst/$id" "$work" >/dev/null
        (cd "$work" && sha256sum --check --quiet SHA256SUMS)
        log "checksums ok; putting back $ARTIFACTS_URL"
        mkdir -p "$work/artifacts"
        "${mc[@]}" mirror --overwrite --remove "$work/artifacts" "$src" >/dev/null
        echo "$id" >"$work/.id"
    fi
}

"step_$step"
