"""Use cases of the collections service, one module per concern: load, apply the domain rule, save, emit."""
