"""Synthetic demo country: deterministic persons, trips and import feeds with known truth."""

from kosh_demo.feeds import write_feeds
from kosh_demo.generator import DemoCountry, generate, summary

__all__ = ["DemoCountry", "generate", "summary", "write_feeds"]
