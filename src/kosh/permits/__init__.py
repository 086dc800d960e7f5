"""Work authorisation: permits within quotas, their lifecycle, and the quota ledger.

A capability beside stay and identity (independent of both), building on people and the
platform. Its rules are the pack's (`jurisdictions/kz/permits.toml`), by year and with sources.
"""
