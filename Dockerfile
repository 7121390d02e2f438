# Gru as a container image: one statically configured binary on slim Debian.
#
#   docker build -t gru .
#   docker run --rm gru --help
#   docker run -d --name gru-agent --network host --env-file /etc/default/gru \
#     -v /var/run/docker.sock:/var/run/docker.sock -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
#     -v /var/lib/gru:/var/lib/gru gru agent
#
# The build stage needs to reach Deno's download host: `deno compile` fetches the denort runtime
# it embeds (set DENORT_BIN=/path/to/denort where that host is unreachable).

# --- stage 1: compile ------------------------------------------------------------------------------
FROM denoland/deno:2.9.6 AS build
WORKDIR /app
# Dependencies first: this layer stays cached while only the sources change.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
# Explicit permissions are set by scripts/compile.ts (never -A); the binary must at least start.
RUN deno task compile --output dist/gru && ./dist/gru --version

# --- stage 2: runtime ------------------------------------------------------------------------------
# Debian (glibc): a compiled Deno binary does not run on musl (alpine).
FROM debian:12-slim
LABEL org.opencontainers.image.title="gru" \
      org.opencontainers.image.description="Decentralized autonomic manager for Docker containers"
COPY --from=build /app/dist/gru /usr/local/bin/gru
# State: node identity (node.json) and the embedded file store.
RUN mkdir -p /var/lib/gru
ENTRYPOINT ["gru"]
CMD ["--help"]
