"""Synthetic demo country: deterministic persons, trips and import feeds with known truth."""

from kosh.demo.feeds import write_feeds
from kosh.demo.generator import DemoCountry, generate, summary

__all__ = ["DemoCountry", "generate", "summary", "write_feeds"]
