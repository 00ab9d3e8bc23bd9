"""Use cases of the survey service, one module per concern: load, apply the domain rule, save, emit."""
