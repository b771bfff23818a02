# syntax=docker/dockerfile:1
# Multi-stage build: compile the server and the bundled plugins, then ship them on a
# slim base as a non-root user.
#
# The image runs in production mode: it refuses to start without real token keys, so run
# it with a JWT secret of at least 32 bytes (and a credentials key to accept broker
# credentials), e.g.
#   docker run -p 8000:8000 -v optionhub-data:/app/data \
#     -e JWT_SECRET="$(openssl rand -hex 32)" \
#     -e OPTIONHUB_CREDENTIALS_KEY="$(openssl rand -hex 32)" optionhub
# (keep both values: a new JWT secret voids issued tokens, a new credentials key makes
# stored broker credentials unreadable). Users and tokens: `docker exec CONTAINER optionhub
# user add NAME --role admin`, then `docker exec CONTAINER optionhub user token NAME`.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# rust-toolchain.toml pins the compiler; the plugins need the wasm32-wasip2 target.
RUN rustup target add wasm32-wasip2
COPY . .
RUN make build PLUGIN_DIR=/out/plugins \
 && install -D target/release/optionhub /out/optionhub

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin optionhub \
 && mkdir -p /app/data /app/plugins \
 && chown -R optionhub:optionhub /app
COPY --from=build /out/optionhub /usr/local/bin/optionhub
COPY --from=build --chown=optionhub:optionhub /out/plugins/ /app/plugins/
USER optionhub
WORKDIR /app
ENV OPTIONHUB_LISTEN=0.0.0.0:8000 \
    OPTIONHUB_PLUGINS=/app/plugins \
    OPTIONHUB_DATA=/app/data \
    OPTIONHUB_LOG_FORMAT=json \
    OPTIONHUB_MODE=production
EXPOSE 8000
# /health answers 200 while the server serves (degraded included: market data needs
# neither the database nor Redis); the port follows OPTIONHUB_LISTEN's default above.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--show-error", "--max-time", "4", "--output", "/dev/null", "http://127.0.0.1:8000/health"]
VOLUME ["/app/data"]
ENTRYPOINT ["optionhub"]
CMD ["serve"]
