"""Invoice imports: a billing run too large for one bulk request, uploaded as NDJSON or CSV.

The upload is read as a stream and staged (``upload``), one row per line; a worker of the service
(``worker``) claims a queued import with a lease and records its lines in chunks through the bulk path
(``services.collections.service.invoices.create_invoices``), each chunk one transaction with its
per-line results, so a replica that crashes mid-way leaves the next one to resume at the next chunk.
"""
