"""moto's backends as persistence components, and which request changed what.

LocalStack persists moto the same way (its "snapshot" persistence pickles each
service's moto backends after requests that change them); we pickle smaller parts so
that saving after a request costs what the request changed, not the whole store:

- ``s3``: one part per S3 key (all its versions and their tags), one per bucket
  (settings, multipart uploads in progress), one per backend (account settings).
  Bodies are files (:mod:`utils.cloud.s3.models`), only named here.
- ``logs``: one part per log stream, per log group and per backend.
- every other service (``glue``, ``iam``, ``sts``, ``secretsmanager``, ``rds``...):
  one part per (account, region) backend.

Athena is both: moto's Athena backends (workgroups, named queries, tags, data catalogs)
are the component ``moto-athena``; ``athena`` is our own (query history, prepared
statements), registered by ``utils.cloud.athena.models``, whose operations mark it
themselves.

:func:`request_changes` tells the server, from a request alone, what to mark
changed once the request is answered; our own in-process writers (Glue runs,
crawlers, ``utils.cloud.backends``) mark what they change themselves.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from utils.cloud import persistence
from utils.config import LOCAL_ACCOUNT_ID

# Services whose state lives nowhere worth keeping.
NOT_MOTO = {"moto_api"}
# A moto service whose component needs another name (ours holds the service's name).
COMPONENT_NAMES = {"athena": "moto-athena"}

# Operation names that only read (everything else is treated as a change).
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Search", "Lookup", "BatchGet", "Query",
                 "Scan", "Filter", "Select", "Test", "Validate", "Check", "Estimate", "Simulate",
                 "Decrypt", "Encrypt", "Verify")


def part_name(*fields: str) -> str:
    """A part's name: its fields as a JSON list (unambiguous for any bucket or key name)."""
    return json.dumps(list(fields))


def _fields(part: str) -> list[str]:
    return json.loads(part)


def _shell(obj: Any, **replace: Any) -> Any:
    """A shallow copy of a moto model with some attributes replaced (children saved apart)."""
    clone = copy.copy(obj)
    clone.__dict__.update(replace)
    return clone


class _Versions:
    """Which objects a part held when it was last saved (to find what changed since)."""

    def __init__(self) -> None:
        self.saved: dict[str, tuple[Any, ...]] = {}

    def changed(self, part: str, current: tuple[Any, ...]) -> bool:
        before = self.saved.get(part)
        return before is None or len(before) != len(current) or any(
            a is not b for a, b in zip(before, current, strict=True))


# -- S3 ---------------------------------------------------------------------------------


class S3Component(persistence.Component):
    """moto's S3: one part per backend, bucket and key (with every version of the key)."""

    name = "s3"

    def __init__(self) -> None:
        self.versions = _Versions()

    @staticmethod
    def backends() -> Iterator[tuple[str, str, Any]]:
        """(account, partition, backend) of every S3 backend in use."""
        from moto.s3.models import s3_backends

        for account, per_account in list(s3_backends.items()):
            for partition, backend in list(per_account.items()):
                yield account, partition, backend

    def _bucket(self, name: str) -> Any:
        for _, _, backend in self.backends():
            bucket = backend.buckets.get(name)
            if bucket is not None:
                return bucket
        return None

    def parts(self) -> Iterable[str]:
        for account, partition, backend in self.backends():
            yield part_name("backend", account, partition)
            for name, bucket in list(backend.buckets.items()):
                yield part_name("bucket", name)
                for key in list(bucket.keys.keys()):
                    yield part_name("key", name, key)

    def expand(self, part: str, stored: set[str]) -> Iterable[str]:
        kind, *rest = _fields(part)
        if kind == "all*":
            live = set()
            for account, partition, backend in self.backends():
                yield part_name("backend", account, partition)
                for bucket in list(backend.buckets):
                    live.add(bucket)
                    yield from self._bucket_and_changed_keys(bucket, stored)
            for stale in {_fields(p)[1] for p in stored if _fields(p)[0] == "bucket"} - live:
                yield from self._bucket_and_changed_keys(stale, stored)
        elif kind == "bucket*":
            yield from self._bucket_and_changed_keys(rest[0], stored)
        else:
            yield part

    def _bucket_and_changed_keys(self, name: str, stored: set[str]) -> Iterator[str]:
        yield part_name("bucket", name)
        bucket = self._bucket(name)
        # Bucket-level requests may change the account's settings (bucket tags live there).
        if bucket is not None:
            yield part_name("backend", bucket.account_id, bucket.partition)
        live = set()
        if bucket is not None:
            for key, versions in list(bucket.keys.lists()):
                part = part_name("key", name, key)
                live.add(part)
                if self.versions.changed(part, tuple(versions)):
                    yield part
        for part in stored:  # keys deleted since they were saved
            fields = _fields(part)
            if fields[0] == "key" and fields[1] == name and part not in live:
                yield part

    def dump(self, part: str) -> Any:
        kind, *rest = _fields(part)
        if kind == "backend":
            account, partition = rest
            backend = dict(self.backends_by_id()).get((account, partition))
            if backend is None:
                return persistence.MISSING
            tagger = _shell(backend.tagger, tags={
                arn: tags for arn, tags in list(backend.tagger.tags.items())
                if tags and "/" not in arn.split(":::", 1)[-1]})  # bucket tags; object tags go with keys
            return _shell(backend, buckets={}, tagger=tagger)
        if kind == "bucket":
            bucket = self._bucket(rest[0])
            if bucket is None:
                return persistence.MISSING
            return _shell(bucket, keys=None)
        if kind == "key":
            bucket = self._bucket(rest[0])
            versions = tuple(bucket.keys.getlist(rest[1], []) if bucket is not None else ())
            self.versions.saved[part] = versions
            if not versions:
                return persistence.MISSING
            tagger = self._tagger_of(bucket)
            tags = {}
            for version in versions:
                arn = getattr(version, "arn", None)
                if arn and tagger.tags.get(arn):
                    tags[arn] = dict(tagger.tags[arn])
            return {"versions": list(versions), "tags": tags}
        return persistence.MISSING

    def backends_by_id(self) -> Iterator[tuple[tuple[str, str], Any]]:
        """((account, partition), backend) pairs."""
        for account, partition, backend in self.backends():
            yield (account, partition), backend

    def _tagger_of(self, bucket: Any) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[bucket.account_id][bucket.partition].tagger

    def load(self, parts: dict[str, Any]) -> None:
        from moto.s3.models import s3_backends
        from moto.s3.utils import _VersionedKeyStore

        backends = {}
        for part, state in parts.items():
            kind, *rest = _fields(part)
            if kind == "backend":
                account, partition = rest
                s3_backends[account][partition] = state
                backends[(account, partition)] = state
        buckets = {}
        for part, state in parts.items():
            kind, *rest = _fields(part)
            if kind == "bucket":
                state.keys = _VersionedKeyStore()
                backend = backends.get((state.account_id, state.partition)) or \
                    s3_backends[state.account_id][state.partition]
                backend.buckets[state.name] = state
                s3_backends.bucket_accounts[state.name] = (state.partition, state.account_id)
                buckets[state.name] = state
        for part, state in parts.items():
            kind, *rest = _fields(part)
            if kind == "key" and rest[0] in buckets:
                bucket = buckets[rest[0]]
                bucket.keys.setlist(rest[1], state["versions"])
                self._tagger_of(bucket).tags.update(state["tags"])
                self.versions.saved[part] = tuple(state["versions"])

    def reset_cache(self) -> None:
        """Forget what was saved (after a failed write everything is compared again)."""
        self.versions.saved.clear()


# -- CloudWatch Logs --------------------------------------------------------------------


class LogsComponent(persistence.Component):
    """moto's CloudWatch Logs: one part per backend, log group and log stream."""

    name = "logs"

    def __init__(self) -> None:
        self.versions = _Versions()

    @staticmethod
    def backends() -> Iterator[tuple[str, str, Any]]:
        """(account, region, backend) of every Logs backend in use."""
        from moto.logs.models import logs_backends

        for account, per_account in list(logs_backends.items()):
            for region, backend in list(per_account.items()):
                yield account, region, backend

    def _backend(self, account: str, region: str) -> Any:
        from moto.logs.models import logs_backends

        per_account = logs_backends.get(account)
        return per_account.get(region) if per_account is not None else None

    def parts(self) -> Iterable[str]:
        for account, region, backend in self.backends():
            yield part_name("backend", account, region)
            for name, group in list(backend.groups.items()):
                yield part_name("group", account, region, name)
                for stream in list(group.streams):
                    yield part_name("stream", account, region, name, stream)

    def expand(self, part: str, stored: set[str]) -> Iterable[str]:
        kind, *rest = _fields(part)
        if kind == "all*":
            live = set()
            for account, region, backend in self.backends():
                yield part_name("backend", account, region)
                for group in list(backend.groups):
                    live.add((account, region, group))
                    yield from self._group_and_changed_streams(account, region, group, stored)
            for fields in {tuple(_fields(p)[1:4]) for p in stored if _fields(p)[0] == "group"}:
                if fields not in live:
                    yield from self._group_and_changed_streams(*fields, stored)
        elif kind == "group*":
            yield part_name("backend", rest[0], rest[1])
            yield from self._group_and_changed_streams(*rest, stored)
        else:
            yield part

    def _group_and_changed_streams(self, account: str, region: str, group: str,
                                   stored: set[str]) -> Iterator[str]:
        yield part_name("group", account, region, group)
        backend = self._backend(account, region)
        log_group = backend.groups.get(group) if backend is not None else None
        live = set()
        if log_group is not None:
            for name, stream in list(log_group.streams.items()):
                part = part_name("stream", account, region, group, name)
                live.add(part)
                if self.versions.changed(part, (stream, len(stream.events))):
                    yield part
        for part in stored:
            fields = _fields(part)
            if fields[0] == "stream" and fields[1:4] == [account, region, group] and part not in live:
                yield part

    def dump(self, part: str) -> Any:
        kind, account, region, *rest = _fields(part)
        backend = self._backend(account, region)
        if backend is None:
            return persistence.MISSING
        if kind == "backend":
            return _shell(backend, groups={})
        log_group = backend.groups.get(rest[0])
        if log_group is None:
            return persistence.MISSING
        if kind == "group":
            return _shell(log_group, streams={})
        stream = log_group.streams.get(rest[1])
        if stream is None:
            return persistence.MISSING
        events = list(stream.events)
        self.versions.saved[part] = (stream, len(events))
        return _shell(stream, log_group=None, events=events)

    def load(self, parts: dict[str, Any]) -> None:
        from moto.logs.models import logs_backends

        for part, state in parts.items():
            kind, account, region, *_ = _fields(part)
            if kind == "backend":
                logs_backends[account][region] = state
        groups = {}
        for part, state in parts.items():
            kind, account, region, *rest = _fields(part)
            if kind == "group":
                logs_backends[account][region].groups[rest[0]] = state
                groups[(account, region, rest[0])] = state
        for part, state in parts.items():
            kind, account, region, *rest = _fields(part)
            if kind == "stream" and (account, region, rest[0]) in groups:
                group = groups[(account, region, rest[0])]
                state.log_group = group
                group.streams[rest[1]] = state
                self.versions.saved[part] = (state, len(state.events))

    def reset_cache(self) -> None:
        """Forget what was saved (after a failed write everything is compared again)."""
        self.versions.saved.clear()


# -- any other moto service -----------------------------------------------------------


class BackendsComponent(persistence.Component):
    """A moto service saved as one part per (account, region) backend."""

    def __init__(self, service: str, name: str | None = None) -> None:
        self.service = service
        self.name = name or service

    def _backend_dict(self) -> Any:
        from moto.backends import get_backend

        return get_backend(self.service)  # type: ignore[arg-type]

    def parts(self) -> Iterable[str]:
        for account, per_account in list(self._backend_dict().items()):
            for region in list(per_account.keys()):
                yield part_name("backend", account, region)

    def dump(self, part: str) -> Any:
        _, account, region = _fields(part)
        per_account = self._backend_dict().get(account)
        if per_account is None or not dict.__contains__(per_account, region):  # instantiated only
            return persistence.MISSING
        return per_account[region]

    def load(self, parts: dict[str, Any]) -> None:
        backend_dict = self._backend_dict()
        for part, state in parts.items():
            _, account, region = _fields(part)
            backend_dict[account][region] = state
        if self.name == "glue":
            from utils.cloud.glue import recovery

            recovery.after_restart()


# Restored at start-up: our in-process engines (crawlers, job runs, Athena) read them
# without a request. Any other stored service is restored just before its first request:
# importing a moto service can take seconds (RDS imports EC2), which start-up need not wait.
EAGER_SERVICES = ("glue", "athena")

_install_lock = threading.Lock()
_service_lock = threading.RLock()
_installed = False


@functools.cache
def _moto_services() -> frozenset[str]:
    from moto.backends import list_of_moto_modules

    return frozenset(list_of_moto_modules())


def component_for(service: str | None) -> str | None:
    """The component holding a service's state (registered, hence restored, on first use)."""
    if not service or service in NOT_MOTO:
        return None
    if service in ("s3", "logs"):
        return service
    name = COMPONENT_NAMES.get(service, service)
    with _service_lock:  # a first request waits until its service is restored
        if persistence.registered(name):
            return name
        if service not in _moto_services():
            return None
        persistence.register_component(BackendsComponent(service, name))
    return name


def installed() -> bool:
    """True once moto's backends are persisted (:func:`install`)."""
    return _installed


def install() -> None:
    """Persist moto's backends (restoring what is stored); call after ``persistence.enable``."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from utils.cloud.s3 import models as s3_models

        stop_tracking_instances()
        s3_models.install()
        persistence.register_component(S3Component())
        persistence.register_component(LogsComponent())
        for service in EAGER_SERVICES:
            component_for(service)
        _installed = True


def stop_tracking_instances() -> None:
    """Stop moto from keeping every model object it ever created (``instances_tracked``).

    moto's ``BaseModel.__new__`` appends each new object to a class-level list that only
    ``/moto-api/data.json`` reads and only a reset clears: in a long-running server every
    S3 key ever written (and its body, in moto's own keys) stays in memory.
    """
    from moto.core.common_models import BaseModel

    def untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)  # type: ignore[misc]

    BaseModel.__new__ = staticmethod(untracked_new)  # type: ignore[assignment,method-assign]
    pending = list(BaseModel.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "instances_tracked" in cls.__dict__:
            cls.instances_tracked = []  # type: ignore[attr-defined]


# -- what a request changes -----------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What to mark changed once a request is answered: component -> parts (None = all)."""

    component: str
    parts: tuple[str, ...] | None


def credential_scope(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, region) a request is signed for, ``("", "")`` when unsigned."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        scope = (query.get("X-Amz-Credential") or [""])[0]
    fields = scope.split("/")
    if len(fields) >= 5:
        return fields[3].lower(), fields[2]
    return "", ""


def is_read(action: str) -> bool:
    """True for operations that only read (GetObject, ListTables, DescribeSecret...)."""
    return action.startswith(READ_PREFIXES)


def request_changes(environ: dict[str, Any], backend: str | None, action: str | None,
                    body: dict[str, Any] | None) -> list[Change]:
    """What a request may have changed (empty for reads), from the request alone.

    ``backend``: moto's name for the request's service (its dispatcher's inference);
    ``action``: the JSON target's or query's operation name when known; ``body``: the
    decoded JSON body (Logs: which group and stream).
    """
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        if method == "POST":  # e.g. /moto-api/reset: everything may have changed
            return [Change(name, None) for name in _all_components()]
        return []
    signed_for, region = credential_scope(environ)
    service = backend or signed_for
    if service == "s3" or (not service and not action):
        if method in ("GET", "HEAD", "OPTIONS"):
            return []
        return [Change("s3", _s3_parts(environ))]
    if action is not None:
        if is_read(action):
            return []
    elif method in ("GET", "HEAD", "OPTIONS"):
        return []
    if service == "logs":
        group = (body or {}).get("logGroupName")
        stream = (body or {}).get("logStreamName")
        region = region or "us-east-1"
        if group and stream and action == "PutLogEvents":
            return [Change("logs", (part_name("stream", LOCAL_ACCOUNT_ID, region, group, stream),))]
        if group:
            return [Change("logs", (part_name("group*", LOCAL_ACCOUNT_ID, region, group),))]
        return [Change("logs", (part_name("all*"),))]
    if service == "athena" and action is not None and _athena_executes(action):
        return []  # ours: its handler marks our own component (query history) itself
    component = component_for(service)
    if component is None:
        return []
    return [Change(component, None)]


def _athena_executes(action: str) -> bool:
    from utils.cloud import urls

    return urls.json_handler("AmazonAthena", action) is not None


def _all_components() -> list[str]:
    return persistence.component_names()


def _s3_parts(environ: dict[str, Any]) -> tuple[str, ...]:
    host = environ.get("HTTP_HOST", "").split(":")[0]
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        # Virtual-hosted style (bucket in the host name) or an unknown form: compare all.
        return (part_name("all*"),)
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = unquote(urlparse(raw).path)
    else:  # WSGI decodes the path as latin-1
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return (part_name("all*"),)
    if not key:
        return (part_name("bucket*", bucket),)
    return (part_name("bucket", bucket), part_name("key", bucket, key))
