# Multi-stage image for the gateway and, from the same image, the health prober
# (node packages/health-prober/dist/main.js) and the provider simulator (node packages/provider-sim/dist/main.js).
# Build: docker build -t dosrouter .     Run: docker run -p 8080:8080 dosrouter     Cluster: docker-compose.yml
FROM node:20-bookworm-slim AS base
RUN npm install -g pnpm@10.34.8 --no-fund --no-audit --loglevel=error
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/gateway/package.json packages/gateway/
COPY packages/health-prober/package.json packages/health-prober/
COPY packages/provider-sim/package.json packages/provider-sim/

FROM base AS build
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json ./
COPY packages packages
# The build script also runs scripts/copy-assets.mjs (the Lua files next to the compiled JavaScript).
COPY scripts scripts
RUN pnpm run build

FROM base AS runtime
ENV NODE_ENV=production
RUN pnpm install --frozen-lockfile --prod && pnpm store prune
COPY --from=build /app/packages/shared/dist packages/shared/dist
COPY --from=build /app/packages/provider-sim/dist packages/provider-sim/dist
COPY --from=build /app/packages/gateway/dist packages/gateway/dist
COPY --from=build /app/packages/health-prober/dist packages/health-prober/dist
# demo.yaml (the default config), cluster.yaml (docker-compose.yml's gateways and prober), examples/.
COPY config config
# Embedded mode (no REDIS_URL) keeps API keys and usage here; `-v dosrouter-data:/data` keeps them past the container (docs/operations.md).
ENV DOSROUTER_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
# The image's node user, by uid: Kubernetes can verify runAsNonRoot only for a numeric user. Nothing is written outside
# /data (and /tmp): the root filesystem may be read-only (deploy/kubernetes mounts emptyDirs there).
USER 1000:1000
EXPOSE 8080
# The gateway's; docker-compose.yml gives the prober (/readyz on 9091) and the simulator (/healthz) their own.
HEALTHCHECK --interval=10s --timeout=2s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "packages/gateway/dist/main.js"]
