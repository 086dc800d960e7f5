"""Benchmarks of Kosh (`kosh bench …` or `./dev bench …` from a source checkout): they print
figures for the machine they run on and never pass or fail. They live beside the product, not
in it: they drive it the way its users do (the CLI's import, the API over HTTP, the linkage engines)."""
