"""URL mode of backup and restore: the three stores dumped and loaded from this machine.

PostgreSQL with pg_dump/pg_restore, MySQL with mysqldump or mariadb-dump and mysql (the
clients on PATH), the artifact bucket copied with boto3. A backup is staged in a local
folder (names.BACKUP_PARTS, a manifest and SHA256SUMS), then uploaded when its location is
an S3 prefix; a restore downloads it, checks every checksum before it touches a store, then
loads each part. The layout is the one the chart's CronJob writes, so either side restores
the other's backups (given a pg_restore at least as new as the pg_dump that made them).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.names import (
    BACKUP_CHECKSUMS,
    BACKUP_ID_FORMAT,
    BACKUP_MANIFEST,
    BACKUP_PARTS,
)

CHUNK = 1 << 20
MANIFEST_FORMAT = 1


# -- where stores and backups are --------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """A database URL as SQLAlchemy or libpq writes it (`postgresql+psycopg://u:p@h:5432/db`)."""

    kind: str
    host: str
    port: int
    user: str
    password: str
    name: str
    query: str

    @classmethod
    def parse(cls, url: str, kind: str) -> Database:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        if scheme not in {"postgresql", "postgres"} | {"mysql", "mariadb"} or not parts.hostname:
            raise PluginError(
                f"{url.split('@')[-1]!r} is not a {kind} URL like {kind}://user:password@host/db"
            )
        if (scheme in {"mysql", "mariadb"}) != (kind == "mysql"):
            raise PluginError(f"{parts.hostname}/{parts.path.lstrip('/')} is not a {kind} database")
        name = parts.path.lstrip("/")
        if not name:
            raise PluginError(f"the {kind} URL for {parts.hostname} names no database")
        default_port = 3306 if kind == "mysql" else 5432
        return cls(
            kind,
            parts.hostname,
            parts.port or default_port,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            name,
            parts.query,
        )

    def libpq_uri(self) -> str:
        """The URL for libpq without its password (that goes in PGPASSWORD, not argv)."""
        netloc = f"{quote(self.user, safe='')}@{self.host}:{self.port}"
        return urlunsplit(("postgresql", netloc, "/" + self.name, self.query, ""))

    def __str__(self) -> str:
        return f"{self.kind} {self.name} at {self.host}:{self.port}"


@dataclass(frozen=True)
class Bucket:
    """`s3://bucket/prefix` on an S3 endpoint (empty: AWS)."""

    bucket: str
    prefix: str
    endpoint: str | None = None

    @classmethod
    def parse(cls, url: str, endpoint: str | None) -> Bucket:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise PluginError(f"{url!r} is not an S3 URL like s3://bucket/prefix")
        return cls(parts.netloc, parts.path.strip("/"), endpoint or None)

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def client(self):
        import boto3  # the plugin's own venv has it; imported late to keep --help fast

        return boto3.client("s3", endpoint_url=self.endpoint)

    def keys(self, client, below: str = "") -> Iterator[tuple[str, int]]:
        """(key relative to `below`, size) of every object under prefix/below."""
        root = self.key(below).rstrip("/") + "/" if self.key(below) else ""
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(root) :], item["Size"]

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass
class Stores:
    """The stores a URL-mode backup reads and a restore writes (None: not given)."""

    data: Database | None = None
    airflow: Database | None = None
    mlflow: Database | None = None
    artifacts: Bucket | None = None

    @classmethod
    def from_urls(
        cls,
        *,
        data: str | None,
        airflow: str | None,
        mlflow: str | None,
        artifacts: str | None,
        endpoint: str | None,
    ) -> Stores:
        return cls(
            data=Database.parse(data, "postgresql") if data else None,
            airflow=Database.parse(airflow, "postgresql") if airflow else None,
            mlflow=Database.parse(mlflow, "mysql") if mlflow else None,
            artifacts=Bucket.parse(artifacts, endpoint) if artifacts else None,
        )

    def given(self) -> dict[str, Database | Bucket]:
        return {part: store for part in BACKUP_PARTS if (store := getattr(self, part))}


# -- client tools ------------------------------------------------------------------------


def _tool(*names: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    raise PluginError(f"URL mode needs {' or '.join(names)} on PATH")


def _run(command: list[str], *, env: dict | None = None, what: str, **kwargs) -> None:
    done = subprocess.run(
        command, env={**os.environ, **(env or {})}, capture_output=True, check=False, **kwargs
    )
    if done.returncode != 0:
        message = (done.stderr or b"").decode(errors="replace").strip().splitlines()
        raise PluginError(
            f"{what} failed: {message[-1] if message else 'exit ' + str(done.returncode)}"
        )


def _pg_env(db: Database) -> dict[str, str]:
    return {"PGPASSWORD": db.password} if db.password else {}


def _mysql_defaults(db: Database, folder: Path) -> Path:
    """An option file with the login: a password on the command line would be visible to
    every user of the machine (`ps`), and MYSQL_PWD is deprecated."""
    path = folder / f"{db.name}.cnf"
    path.touch(mode=0o600)
    lines = ["[client]", f"user={db.user}", f"host={db.host}", f"port={db.port}"]
    if db.password:
        lines.append(f"password={db.password}")
    path.write_text("\n".join(lines) + "\n")
    return path


def dump_postgresql(db: Database, target: Path) -> None:
    # Custom format: compressed, and pg_restore can clean and reorder on the way back in.
    _run(
        [_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={db.libpq_uri()}"],
        env=_pg_env(db),
        what=f"pg_dump of {db}",
    )


def restore_postgresql(db: Database, source: Path) -> None:
    # --clean --if-exists: the dump's objects replace what is there (an empty database after a
    # lost volume, or the live one); --no-owner/--no-privileges: the restoring user owns them,
    # as the chart's single application user does; one transaction: all or nothing.
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={db.libpq_uri()}",
            str(source),
        ],
        env=_pg_env(db),
        what=f"pg_restore into {db}",
    )


def dump_mysql(db: Database, target: Path, scratch: Path) -> None:
    tool = _tool("mysqldump", "mariadb-dump")
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    # Oracle's mysqldump would write GTID_PURGED (which needs SUPER to load); MariaDB's has no such option.
    gtid = [] if "MariaDB" in version.stdout else ["--set-gtid-purged=OFF"]
    command = [
        tool,
        f"--defaults-extra-file={_mysql_defaults(db, scratch)}",
        # A consistent snapshot of InnoDB tables without locking MLflow out.
        "--single-transaction",
        "--routines",
        "--triggers",
        "--no-tablespaces",
        "--hex-blob",
        *gtid,
        db.name,
    ]
    errors = scratch / "mysqldump.err"
    with gzip.open(target, "wb") as out, errors.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
        shutil.copyfileobj(process.stdout, out, CHUNK)
        code = process.wait()
    if code != 0:
        message = errors.read_text(errors="replace").strip().splitlines()
        raise PluginError(f"{Path(tool).name} of {db} failed: {message[-1] if message else code}")


def restore_mysql(db: Database, source: Path, scratch: Path) -> None:
    command = [
        _tool("mysql", "mariadb"),
        f"--defaults-extra-file={_mysql_defaults(db, scratch)}",
        db.name,
    ]
    errors = scratch / "mysql.err"
    with gzip.open(source, "rb") as dump, errors.open("wb") as err:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=err)
        try:
            shutil.copyfileobj(dump, process.stdin, CHUNK)
        except BrokenPipeError:
            pass  # the client stopped early: its exit code and message say why
        finally:
            process.stdin.close()
        code = process.wait()
    if code != 0:
        message = errors.read_text(errors="replace").strip().splitlines()
        raise PluginError(f"loading {db} failed: {message[-1] if message else code}")


def download_objects(bucket: Bucket, target: Path) -> None:
    client = bucket.client()
    target.mkdir(parents=True, exist_ok=True)
    for relative, _ in bucket.keys(client):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket.bucket, bucket.key(relative), str(path))


def restore_objects(bucket: Bucket, source: Path) -> None:
    """Make the bucket prefix hold exactly the backup's objects: the MLflow database is put
    back to the same moment, so artifacts of runs made after the backup would be orphans."""
    client = bucket.client()
    wanted = {path.relative_to(source).as_posix() for path in source.rglob("*") if path.is_file()}
    for relative in sorted(wanted):
        client.upload_file(str(source / relative), bucket.bucket, bucket.key(relative))
    extra = [bucket.key(relative) for relative, _ in bucket.keys(client) if relative not in wanted]
    for start in range(0, len(extra), 1000):
        batch = [{"Key": key} for key in extra[start : start + 1000]]
        client.delete_objects(Bucket=bucket.bucket, Delete={"Objects": batch, "Quiet": True})


# -- one backup: checksums and manifest --------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def files_of(folder: Path) -> list[str]:
    """Relative paths (posix) of the files in a backup folder but its manifest and checksums,
    in byte order, as `LC_ALL=C sort` orders them in the chart's script."""
    skip = {BACKUP_MANIFEST, BACKUP_CHECKSUMS}
    found = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return sorted((p for p in found if p not in skip), key=lambda p: p.encode())


def write_checksums(folder: Path) -> None:
    lines = [f"{sha256_of(folder / name)}  {name}\n" for name in files_of(folder)]
    (folder / BACKUP_CHECKSUMS).write_text("".join(lines))


def verify_checksums(folder: Path) -> int:
    """Checks every file against SHA256SUMS; returns how many there are."""
    listing = folder / BACKUP_CHECKSUMS
    if not listing.is_file():
        raise PluginError(f"backup {folder.name} has no {BACKUP_CHECKSUMS}")
    count = 0
    for line in listing.read_text().splitlines():
        expected, _, name = line.partition("  ")
        path = folder / name
        if not path.is_file():
            raise PluginError(f"backup {folder.name} lacks {name}")
        if sha256_of(path) != expected:
            raise PluginError(f"backup {folder.name}: {name} does not match its checksum")
        count += 1
    return count


def part_summary(folder: Path, part: str) -> dict:
    kind, name = BACKUP_PARTS[part]
    path = folder / name
    if kind == "objects":
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
        return {
            "kind": kind,
            "path": name,
            "objects": len(files),
            "bytes": sum(p.stat().st_size for p in files),
        }
    return {"kind": kind, "path": name, "bytes": path.stat().st_size, "sha256": sha256_of(path)}


def new_backup_id(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime(BACKUP_ID_FORMAT)


@dataclass
class Report:
    """What a backup or restore did: seconds and bytes per part."""

    backup_id: str
    seconds: dict[str, float] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"  {part:<10} {self.bytes.get(part, 0) / 1e6:9.2f} MB  {seconds:7.1f} s"
            for part, seconds in self.seconds.items()
        ]


def _each_part(stores: Stores, folder: Path, report: Report, *, backup: bool) -> None:
    """Dumps (backup) or loads each given store from its place in folder, timing each."""
    with tempfile.TemporaryDirectory(prefix="proyecto4-scratch-") as scratch:
        for part, store in stores.given().items():
            began = time.monotonic()
            path = folder / BACKUP_PARTS[part][1]
            if isinstance(store, Bucket):
                (download_objects if backup else restore_objects)(store, path)
            elif store.kind == "mysql":
                (dump_mysql if backup else restore_mysql)(store, path, Path(scratch))
            else:
                (dump_postgresql if backup else restore_postgresql)(store, path)
            report.seconds[part] = time.monotonic() - began


def _sources(stores: Stores) -> dict[str, str]:
    return {part: str(store) for part, store in stores.given().items()}


def make_backup(stores: Stores, folder: Path, backup_id: str, made_by: str) -> Report:
    """Dumps every given store into folder (the backup `backup_id`), then its checksums and
    manifest. Databases first, objects last: an artifact is written before the database row
    that names it, so objects copied later cover every row dumped earlier."""
    if not stores.given():
        raise PluginError("name at least one store to back up")
    folder.mkdir(parents=True)
    report = Report(backup_id)
    started = datetime.now(timezone.utc)
    _each_part(stores, folder, report, backup=True)
    write_checksums(folder)
    parts = {part: part_summary(folder, part) for part in stores.given()}
    for part, summary in parts.items():
        report.bytes[part] = summary["bytes"]
    manifest = {
        "format": MANIFEST_FORMAT,
        "id": backup_id,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "made_by": made_by,
        "sources": _sources(stores),
        "parts": parts,
        "checksums": {"file": BACKUP_CHECKSUMS, "sha256": sha256_of(folder / BACKUP_CHECKSUMS)},
        "seconds": {part: round(s, 2) for part, s in report.seconds.items()},
    }
    (folder / BACKUP_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return report


def read_manifest(folder: Path) -> dict:
    path = folder / BACKUP_MANIFEST
    if not path.is_file():
        raise PluginError(f"{folder.name} has no {BACKUP_MANIFEST}: not a finished backup")
    return json.loads(path.read_text())


def load_backup(stores: Stores, folder: Path) -> Report:
    """Checks the backup in folder, then restores each of its parts that has a store given.
    Parts in the backup without a store, or stores without a part, fail before any change."""
    manifest = read_manifest(folder)
    verify_checksums(folder)
    parts = set(manifest["parts"])
    given = stores.given()
    if missing := sorted(parts - set(given)):
        raise PluginError(
            f"backup {manifest['id']} holds {', '.join(missing)}: give a URL for each (or a smaller backup)"
        )
    if absent := sorted(set(given) - parts):
        raise PluginError(f"backup {manifest['id']} has no {', '.join(absent)}")
    report = Report(manifest["id"])
    _each_part(stores, folder, report, backup=False)
    report.bytes = {part: manifest["parts"][part]["bytes"] for part in given}
    return report


# -- where backups live: a folder or an S3 prefix ----------------------------------------


@dataclass(frozen=True)
class Location:
    """Backups under a local folder or an S3 prefix (`s3://bucket/prefix`)."""

    text: str
    endpoint: str | None = None

    @property
    def bucket(self) -> Bucket | None:
        return Bucket.parse(self.text, self.endpoint) if self.text.startswith("s3://") else None

    def describe(self, backup_id: str) -> str:
        return f"{self.text.rstrip('/')}/{backup_id}"

    def upload(self, folder: Path) -> None:
        bucket = self.bucket
        client = bucket.client()
        names = [*files_of(folder), BACKUP_CHECKSUMS, BACKUP_MANIFEST]  # the manifest last
        for name in names:
            client.upload_file(
                str(folder / name), bucket.bucket, bucket.key(f"{folder.name}/{name}")
            )

    def download(self, backup_id: str, target: Path) -> Path:
        bucket = self.bucket
        client = bucket.client()
        folder = target / backup_id
        found = False
        for relative, _ in bucket.keys(client, backup_id):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket.bucket, bucket.key(f"{backup_id}/{relative}"), str(path))
            found = True
        if not found:
            raise PluginError(f"no backup {backup_id} under {self.text}")
        return folder


def split_backup_url(text: str, endpoint: str | None) -> tuple[Location, str]:
    """`--from` of a URL-mode restore: LOCATION/ID (a folder or s3://bucket/prefix/ID)."""
    stripped = text.rstrip("/")
    parent, _, backup_id = stripped.rpartition("/")
    if not backup_id or not parent or parent.endswith(":/"):
        raise PluginError(f"--from {text!r} names no backup (LOCATION/ID)")
    return Location(parent, endpoint), backup_id
