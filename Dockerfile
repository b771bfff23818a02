# syntax=docker/dockerfile:1
# Multi-stage build: compile the server and the bundled plugins, then ship them on a
# slim base as a non-root user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# rust-toolchain.toml pins the compiler; the plugins need the wasm32-wasip2 target.
RUN rustup target add wasm32-wasip2
COPY . .
RUN make build PLUGIN_DIR=/out/plugins \
 && install -D target/release/optionhub /out/optionhub

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
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
    OPTIONHUB_LOG_FORMAT=json
EXPOSE 8000
VOLUME ["/app/data"]
ENTRYPOINT ["optionhub"]
CMD ["serve"]
