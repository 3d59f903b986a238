"""Use cases, one per module; each takes its adapters through Services."""
