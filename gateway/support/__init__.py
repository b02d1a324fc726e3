"""Support for every layer: encryption at rest, logs, metric counters, concurrency."""
