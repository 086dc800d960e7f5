"""Use cases that span capabilities: each calls the capabilities' public interfaces in order,
so no capability calls another upward (intake of a feed file; the retention run)."""
