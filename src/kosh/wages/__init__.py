"""Wage protection: each month's wage checked against the contract by the pack's rules (pure, in
`rules.py`); contracts, wage files, findings and their timelines build on it."""
