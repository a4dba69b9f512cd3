"""The reference data source: the 2013 NYC flights with weather, one day and group at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from data_source.catalog import DayCatalog, day_catalog
from data_source.faults import FaultInjector
from data_source.params import parse_date, parse_group
from data_source.settings import DataSourceSettings

router = APIRouter()


def get_catalog(request: Request) -> DayCatalog:
    return request.app.state.catalog


def get_faults(request: Request) -> FaultInjector:
    return request.app.state.faults


Catalog = Annotated[DayCatalog, Depends(get_catalog)]
Faults = Annotated[FaultInjector, Depends(get_faults)]


def create_app(settings: DataSourceSettings | None = None) -> FastAPI:
    settings = settings or DataSourceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The join and the date index are built once, before the first request is served.
        app.state.catalog = day_catalog(settings.groups)
        app.state.faults = FaultInjector(settings.error_rate, settings.latency_ms, settings.seed)
        yield

    app = FastAPI(
        title="proyecto4 data source",
        description="The 2013 New York City flights joined with the origin's hourly weather.",
        lifespan=lifespan,
    )
    app.add_api_route("/data", data, methods=["GET"], **data_route_schema(settings.groups))
    app.include_router(router)
    return app


def data_route_schema(groups: int) -> dict:
    """/data's OpenAPI operation fields: its parameters are read as raw strings (see
    params.py), so what they really accept, including the number of groups, is written out."""
    parameters = [
        {
            "name": "group",
            "in": "query",
            "required": True,
            "description": "Group number (see /metadata).",
            "schema": {"type": "integer", "minimum": 1, "maximum": groups},
        },
        {
            "name": "date",
            "in": "query",
            "required": True,
            "description": "Day as YYYY-MM-DD, within the range of /metadata.",
            "schema": {"type": "string", "format": "date"},
        },
    ]
    answer = {
        "type": "object",
        "required": ["group", "date", "count", "rows"],
        "properties": {
            "group": {"type": "integer"},
            "date": {"type": "string", "format": "date"},
            "count": {"type": "integer"},
            "rows": {"type": "array", "items": {"type": "object"}},
        },
    }
    return {
        "openapi_extra": {"parameters": parameters},
        "responses": {
            200: {"content": {"application/json": {"schema": answer}}},
            404: {"description": "The date is outside the data set's range."},
            422: {"description": "A parameter is missing or malformed, or no such group."},
            503: {"description": "An injected fault (DATA_SOURCE_ERROR_RATE)."},
        },
    }


async def data(
    catalog: Catalog,
    faults: Faults,
    group: Annotated[str | None, Query(include_in_schema=False)] = None,
    date: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Response:
    """That day's rows of the group: flight columns, then the origin's weather (null if none)."""
    number = parse_group(group, catalog.groups)
    day = parse_date(date, catalog.first_date, catalog.last_date)
    await faults.apply()
    rows = catalog.records(number, day)
    body = {"group": number, "date": day.isoformat(), "count": len(rows), "rows": rows}
    # orjson: a day is about a thousand rows, and a client pulls a year of days.
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/metadata")
async def metadata(catalog: Catalog) -> dict:
    """Date range, number of groups, row columns in order and the total number of rows."""
    return catalog.metadata()


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
