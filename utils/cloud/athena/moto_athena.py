"""moto's Athena backend, extended where it lacks what AWS does (the one place we patch it).

moto owns Athena's *resources*: workgroups, named queries, tags and data catalogs
(``utils/cloud/urls.py`` sends those operations to moto). Our engine owns query
execution and reads each workgroup's settings from here (:func:`workgroup`).

moto 5.2 lacks a few things AWS has and the course, awswrangler or our tests rely on.
Rather than keep a parallel implementation, :func:`install` makes moto's Athena
``BackendDict`` build :class:`LocalAthenaBackend` (a subclass) and answer through
:class:`LocalAthenaResponse` (a subclass), which add only:

- workgroups: UpdateWorkGroup; errors for an unknown workgroup (moto answers ``null``),
  for deleting ``primary``, and for managed query results combined with an
  OutputLocation; the real CreationTime; ``ResultConfiguration`` always present;
- named queries: DeleteNamedQuery, BatchGetNamedQuery, an error for an unknown id;
- data catalogs: ``AwsDataCatalog`` exists from the start (as on AWS), UpdateDataCatalog,
  DeleteDataCatalog, an error for an unknown catalog;
- tags: ListTagsForResource answers ``[]`` for a resource without tags (moto: an error)
  and TagResource / UntagResource / ListTagsForResource refuse an unknown resource.

Everything else is moto's own code. Durability is moto's too: the cloud pickles moto's
Athena backend with the other moto backends (``utils/cloud/moto_state.py``).
"""

from __future__ import annotations

import json
import threading
import time
import types
from dataclasses import dataclass
from typing import Any

from moto.athena import models as moto_models
from moto.athena import responses as moto_responses
from moto.athena import urls as moto_urls
from moto.core.exceptions import JsonRESTError

from utils.config import LOCAL_ACCOUNT_ID

# The persistence component holding moto's Athena backends (utils/cloud/moto_state.py).
PERSISTENCE_NAME = "moto-athena"
PRIMARY = "primary"
DATA_CATALOG = "AwsDataCatalog"
# ResultConfiguration's members besides OutputLocation (what a query echoes).
RESULT_SETTINGS = ("EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration")
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}


class InvalidRequest(JsonRESTError):
    """Athena's InvalidRequestException."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message)


class ResourceNotFound(JsonRESTError):
    """Athena's ResourceNotFoundException."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


def check_managed_results(name: str, configuration: dict[str, Any]) -> None:
    """A workgroup with managed query results has no OutputLocation (as on AWS)."""
    managed = configuration.get("ManagedQueryResultsConfiguration") or {}
    output = (configuration.get("ResultConfiguration") or {}).get("OutputLocation")
    if managed.get("Enabled") and output:
        raise InvalidRequest(
            f"WorkGroup {name}: ManagedQueryResultsConfiguration is enabled, so "
            "ResultConfiguration.OutputLocation must not be set (Athena keeps the results). "
            "Remove one of them.")


class LocalAthenaBackend(moto_models.AthenaBackend):
    """moto's Athena backend with the workgroup, named query, catalog and tag behaviour AWS has."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.add_defaults()

    @property
    def _url_module(self) -> Any:  # moto derives it from the class's module: ours has none
        return _URLS

    def add_defaults(self) -> None:
        """What AWS has in every account and region: ``primary`` (moto makes it) and AwsDataCatalog."""
        for group in self.work_groups.values():
            group.configuration.setdefault("ResultConfiguration", {})
            if not hasattr(group, "creation_time"):
                group.creation_time = time.time()
        if DATA_CATALOG not in self.data_catalogs:
            self.create_data_catalog(DATA_CATALOG, "GLUE", "AWS Glue Data Catalog",
                                     {"catalog-id": self.account_id}, [])  # type: ignore[arg-type]

    # ------------------------------------------------------------------ workgroups

    def create_work_group(self, name: str, configuration: dict[str, Any], description: str,
                          tags: list[dict[str, str]]) -> moto_models.WorkGroup | None:
        configuration = dict(configuration or {})
        configuration.setdefault("ResultConfiguration", {})
        check_managed_results(name, configuration)
        group = super().create_work_group(name, configuration, description or "", tags or [])
        if group is not None:
            group.creation_time = time.time()
        return group

    def work_group(self, name: str | None) -> moto_models.WorkGroup:
        """A workgroup by name (``primary`` when None); InvalidRequestException when unknown."""
        name = name or PRIMARY
        group = self.work_groups.get(name)
        if group is None:
            raise InvalidRequest(f"WorkGroup {name} is not found.")
        return group

    def get_work_group(self, name: str) -> dict[str, Any]:
        group = self.work_group(name)
        return {"Name": group.name, "State": group.state, "Configuration": group.configuration,
                "Description": group.description or "", "CreationTime": _created(group)}

    def list_work_groups(self) -> list[dict[str, Any]]:
        return [{"Name": g.name, "State": g.state, "Description": g.description or "",
                 "CreationTime": _created(g), "EngineVersion": ENGINE_VERSION}
                for g in self.work_groups.values()]

    def update_work_group(self, name: str, updates: dict[str, Any], description: str | None,
                          state: str | None) -> None:
        """UpdateWorkGroup: apply ConfigurationUpdates (moto has no such operation)."""
        group = self.work_group(name)
        configuration = dict(group.configuration)
        result = dict(configuration.get("ResultConfiguration") or {})
        result_updates = updates.get("ResultConfigurationUpdates") or {}
        for key in ("OutputLocation", *RESULT_SETTINGS):
            if key in result_updates:
                result[key] = result_updates[key]
            if result_updates.get(f"Remove{key}"):
                result.pop(key, None)
        configuration["ResultConfiguration"] = result
        managed_updates = updates.get("ManagedQueryResultsConfigurationUpdates") or {}
        if managed_updates:
            managed = dict(configuration.get("ManagedQueryResultsConfiguration") or {"Enabled": False})
            if "Enabled" in managed_updates:
                managed["Enabled"] = bool(managed_updates["Enabled"])
            if "EncryptionConfiguration" in managed_updates:
                managed["EncryptionConfiguration"] = managed_updates["EncryptionConfiguration"]
            if managed_updates.get("RemoveEncryptionConfiguration"):
                managed.pop("EncryptionConfiguration", None)
            configuration["ManagedQueryResultsConfiguration"] = managed
        for key in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled",
                    "RequesterPaysEnabled", "BytesScannedCutoffPerQuery", "EngineVersion",
                    "EnableMinimumEncryptionConfiguration"):
            if key in updates:
                configuration[key] = updates[key]
        if updates.get("RemoveBytesScannedCutoffPerQuery"):
            configuration.pop("BytesScannedCutoffPerQuery", None)
        check_managed_results(name, configuration)
        group.configuration = configuration
        if description is not None:
            group.description = description
        if state:
            group.state = state

    def delete_work_group(self, name: str) -> None:
        """DeleteWorkGroup: never ``primary`` (as on AWS); its named queries go with it."""
        if name == PRIMARY:
            raise InvalidRequest("Cannot delete the primary workgroup")
        group = self.work_group(name)
        for query_id in [q.id for q in self.named_queries.values() if q.workgroup is group]:
            del self.named_queries[query_id]
        self.tagger.delete_all_tags_for_resource(group.arn)
        del self.work_groups[name]

    # --------------------------------------------------------------- named queries

    def get_named_query(self, query_id: str) -> moto_models.NamedQuery:
        query = self.named_queries.get(query_id)
        if query is None:
            raise InvalidRequest(f"NamedQuery {query_id} was not found")
        return query

    def adopt_named_query(self, doc: dict[str, Any]) -> None:
        """Keep a named query described as GetNamedQuery does, with its id (one an older cloud
        kept itself); skipped when the id is known or its workgroup is gone."""
        group = self.work_groups.get(doc.get("WorkGroup") or PRIMARY)
        if group is None or doc["NamedQueryId"] in self.named_queries:
            return
        query = moto_models.NamedQuery(doc["Name"], doc.get("Description", ""), doc["Database"],
                                       doc["QueryString"], group)
        query.id = doc["NamedQueryId"]
        self.named_queries[query.id] = query

    def delete_named_query(self, query_id: str) -> None:
        """DeleteNamedQuery."""
        self.get_named_query(query_id)
        del self.named_queries[query_id]

    # --------------------------------------------------------------- data catalogs

    def _data_catalog(self, name: str) -> moto_models.DataCatalog:
        catalog = self.data_catalogs.get(name)
        if catalog is None:
            raise InvalidRequest(f"Catalog {name} is not found.")
        return catalog

    def get_data_catalog(self, name: str) -> dict[str, Any]:
        catalog = self._data_catalog(name)
        return {"Name": catalog.name, "Description": catalog.description or "", "Type": catalog.type,
                "Parameters": catalog.parameters or {}, "Status": "CREATE_COMPLETE"}

    def list_data_catalogs(self) -> list[dict[str, str]]:
        return [{"CatalogName": c.name, "Type": c.type, "Status": "CREATE_COMPLETE"}
                for c in self.data_catalogs.values()]

    def update_data_catalog(self, name: str, catalog_type: str, description: str | None,
                            parameters: dict[str, str] | None) -> None:
        """UpdateDataCatalog."""
        catalog = self._data_catalog(name)
        catalog.type = catalog_type or catalog.type
        if description is not None:
            catalog.description = description
        if parameters is not None:
            catalog.parameters = parameters  # type: ignore[assignment]

    def delete_data_catalog(self, name: str) -> None:
        """DeleteDataCatalog (AwsDataCatalog, the Glue catalog, cannot be deleted)."""
        if name == DATA_CATALOG:
            raise InvalidRequest(f"{DATA_CATALOG} cannot be deleted.")
        catalog = self._data_catalog(name)
        self.tagger.delete_all_tags_for_resource(catalog.arn)
        del self.data_catalogs[name]

    # ------------------------------------------------------------------------- tags

    def _check_resource(self, arn: str) -> None:
        if arn not in {resource.arn for resource in self.iter_tagged_resources()}:
            raise ResourceNotFound(f"The resource {arn} does not exist.")

    def list_tags_for_resource(self, resource_arn: str) -> dict[str, Any]:
        self._check_resource(resource_arn)
        return self.tagger.list_tags_for_resource(resource_arn)

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        self._check_resource(arn)
        super().tag_resource(arn, tags)

    def untag_resource(self, arn: str, tag_keys: list[str]) -> None:
        self._check_resource(arn)
        super().untag_resource(arn, tag_keys)


def _created(group: moto_models.WorkGroup) -> float:
    return getattr(group, "creation_time", None) or time.time()


class LocalAthenaResponse(moto_responses.AthenaResponse):
    """moto's Athena wire format plus the operations :class:`LocalAthenaBackend` adds."""

    @property
    def local_backend(self) -> LocalAthenaBackend:
        """This request's backend (always ours once :func:`install` ran)."""
        return self.athena_backend  # type: ignore[return-value]

    def update_work_group(self) -> str:
        """UpdateWorkGroup."""
        self.local_backend.update_work_group(
            self._get_param("WorkGroup"), self._get_param("ConfigurationUpdates") or {},
            self._get_param("Description"), self._get_param("State"))
        return "{}"

    def delete_work_group(self) -> str:
        """DeleteWorkGroup."""
        self.local_backend.delete_work_group(self._get_param("WorkGroup"))
        return "{}"

    def delete_named_query(self) -> str:
        """DeleteNamedQuery."""
        self.local_backend.delete_named_query(self._get_param("NamedQueryId"))
        return "{}"

    def batch_get_named_query(self) -> str:
        """BatchGetNamedQuery."""
        found, missing = [], []
        for query_id in self._get_param("NamedQueryIds") or []:
            query = self.local_backend.named_queries.get(query_id)
            if query is None:
                missing.append({"NamedQueryId": query_id, "ErrorCode": "InvalidRequestException",
                                "ErrorMessage": f"NamedQuery {query_id} was not found"})
            else:
                found.append(named_query_document(query))
        return json.dumps({"NamedQueries": found, "UnprocessedNamedQueryIds": missing})

    def update_data_catalog(self) -> str:
        """UpdateDataCatalog."""
        self.local_backend.update_data_catalog(self._get_param("Name"), self._get_param("Type"),
                                               self._get_param("Description"), self._get_param("Parameters"))
        return "{}"

    def delete_data_catalog(self) -> str:
        """DeleteDataCatalog."""
        self.local_backend.delete_data_catalog(self._get_param("Name"))
        return "{}"


def named_query_document(query: moto_models.NamedQuery) -> dict[str, Any]:
    """A named query as GetNamedQuery describes it."""
    return {"Name": query.name, "Description": query.description or "", "Database": query.database,
            "QueryString": query.query_string, "NamedQueryId": query.id,
            "WorkGroup": query.workgroup.name}


_URLS = types.SimpleNamespace(url_bases=moto_urls.url_bases,
                              url_paths={"{0}/$": LocalAthenaResponse.dispatch})
_INSTALL_LOCK = threading.Lock()


def install() -> None:
    """Make moto's Athena backends :class:`LocalAthenaBackend` (idempotent; before the first request).

    Backends built before this (there should be none) are converted in place.
    """
    backends = moto_models.athena_backends
    with _INSTALL_LOCK:
        if backends.backend is LocalAthenaBackend:
            return
        backends.backend = LocalAthenaBackend
        for per_account in list(backends.values()):
            per_account.backend = LocalAthenaBackend
            for backend in list(dict.values(per_account)):
                backend.__class__ = LocalAthenaBackend
                backend.add_defaults()


def backend(region: str, account_id: str = LOCAL_ACCOUNT_ID) -> LocalAthenaBackend:
    """moto's Athena backend of a region (the one the API's workgroup calls change)."""
    install()
    return moto_models.athena_backends[account_id][region]  # type: ignore[return-value]


@dataclass(frozen=True)
class WorkGroupSettings:
    """What query execution reads of a workgroup, as moto holds it at the time of the call."""

    name: str
    created: float
    state: str
    output_location: str | None
    enforce: bool
    result_settings: dict[str, Any]
    managed: dict[str, Any] | None


def workgroup(region: str, name: str | None, account_id: str = LOCAL_ACCOUNT_ID) -> WorkGroupSettings:
    """A workgroup's settings (``primary`` when None); InvalidRequestException when unknown."""
    group = backend(region, account_id).work_group(name)
    configuration = group.configuration
    result = configuration.get("ResultConfiguration") or {}
    managed = configuration.get("ManagedQueryResultsConfiguration") or {}
    return WorkGroupSettings(
        name=group.name, created=_created(group), state=group.state,
        output_location=result.get("OutputLocation") or None,
        enforce=bool(configuration.get("EnforceWorkGroupConfiguration", True)),
        result_settings={k: result[k] for k in RESULT_SETTINGS if result.get(k)},
        managed=managed if managed.get("Enabled") else None)
