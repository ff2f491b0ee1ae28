# One image for every service; compose and Kubernetes pick the entry point
# (wellstream-ingestor, wellstream-validator, wellstream-writer, wellstream-gateway).
FROM python:3.11-slim AS build
# cargo and a C linker build the validator's native fast path (services/validator/native).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl gcc libc6-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV PATH="/root/.cargo/bin:$PATH"
COPY scripts/rust.sh /tmp/rust.sh
RUN /tmp/rust.sh ensure
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY libs libs
COPY services services
COPY src src
# The extension is installed into src/validator; cargo's build tree is not needed after.
RUN uv sync --frozen --no-dev --compile-bytecode && rm -rf services/validator/target

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 wellstream
COPY --from=build --chown=wellstream /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1
USER wellstream
WORKDIR /app
