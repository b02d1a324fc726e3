"""``make bench``: performance figures of the gateway (see README, "Performance")."""
