"""Use cases of the credit service, one module per concern: load, apply the domain rule, save, emit.

Every function runs inside the caller's transaction (a request or a consumed event) and never commits."""
