"""Journey triggers: rules evaluated on committed events, signed webhooks delivered at least once."""
