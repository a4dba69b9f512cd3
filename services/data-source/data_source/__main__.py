"""`python -m data_source [--host H] [--port N]`: serve the data source with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from data_source.settings import DataSourceSettings


def main(argv: list[str] | None = None) -> None:
    settings = DataSourceSettings()
    parser = argparse.ArgumentParser(prog="python -m data_source", description=__doc__)
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args(argv)
    uvicorn.run("data_source.app:create_app", factory=True, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
