"""Locust load tests of the inference API; `run` drives one headless test."""

from loadtest.runner import run

__all__ = ["run"]
