#!/usr/bin/env bash
# Starts the PostgreSQL and MariaDB servers of this machine when they are not running,
# then waits until both accept connections. Safe to run again.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! mariadb-admin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
    echo "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p 5432 && mariadb-admin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
        echo "PostgreSQL and MariaDB are up"
        exit 0
    fi
    sleep 1
done
echo "databases did not come up in 60 s" >&2
exit 1
