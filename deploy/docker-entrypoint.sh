#!/bin/sh
# Entrypoint of the creditflow image: every argument goes to the `creditflow` command.
# With no argument, serve the service named by CREDITFLOW_SERVICE (customers, credit, collections, survey).
set -eu

if [ "$#" -eq 0 ]; then
    if [ -z "${CREDITFLOW_SERVICE:-}" ]; then
        echo "creditflow image: give a command (serve <service>, migrate [--service <service>], ...)" \
             "or set CREDITFLOW_SERVICE" >&2
        exit 64
    fi
    set -- serve "$CREDITFLOW_SERVICE"
fi

exec creditflow "$@"
