# One image for every service; compose and Kubernetes pick the entry point
# (wellstream-ingestor, wellstream-validator, wellstream-writer, wellstream-gateway).

# The gateway's dashboard, bundled from its lock file (services/gateway/ui/dist).
FROM node:20-slim AS ui
WORKDIR /ui
COPY services/gateway/ui/package.json services/gateway/ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY services/gateway/ui ./
RUN node build.mjs

FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY libs libs
COPY services services
COPY src src
# Neither the dev group nor an extra: no test tools and no chDB (the `embedded` extra;
# the services talk to a ClickHouse server). Every dependency is a wheel: no compiler.
RUN uv sync --frozen --no-dev --compile-bytecode
COPY --from=ui /ui/dist services/gateway/ui/dist

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 wellstream
COPY --from=build --chown=wellstream /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1
USER wellstream
WORKDIR /app
