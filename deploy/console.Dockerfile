# syntax=docker/dockerfile:1
# The web console as a static site on nginx, proxying /api/<service>/ to the services (same origin, no CORS).
# Build from the repository root:  docker build -f deploy/console.Dockerfile -t creditflow-console:dev .
# Production signs in with OIDC (authorization code + PKCE): set CONSOLE_OIDC_ISSUER and CONSOLE_OIDC_CLIENT_ID;
# the services verify the tokens with CREDITFLOW_<SERVICE>_JWT_JWKS_URL. There is no development sign-in here.
ARG NODE_IMAGE=node:20.19-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.27-alpine

# ---- build: npm ci from the lockfile, then vite build (the API types are committed in src/api) ---------
FROM ${NODE_IMAGE} AS build
WORKDIR /console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

# ---- runtime: nginx (non-root, port 8080); the config is rendered from the template by envsubst at start --
FROM ${NGINX_IMAGE} AS runtime
LABEL org.opencontainers.image.title="creditflow-console" \
      org.opencontainers.image.description="Creditflow web console (static) with a same-origin proxy to the services" \
      org.opencontainers.image.source="deploy/console.Dockerfile"
ENV CREDITFLOW_CUSTOMERS_URL=http://customers:8001 \
    CREDITFLOW_CREDIT_URL=http://credit:8002 \
    CREDITFLOW_COLLECTIONS_URL=http://collections:8003 \
    CREDITFLOW_SURVEY_URL=http://survey:8004 \
    CONSOLE_OIDC_ISSUER=https://issuer.invalid/realms/creditflow \
    CONSOLE_OIDC_CLIENT_ID=creditflow-console \
    CONSOLE_OIDC_SCOPE="openid customers:read customers:write credit:read credit:write collections:read collections:write survey:read survey:write"
COPY deploy/console.nginx.conf.template /etc/nginx/templates/default.conf.template
COPY --from=build /console/dist /usr/share/nginx/html
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/livez"]
