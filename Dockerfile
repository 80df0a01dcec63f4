# Faultline controller image (the in-pod injector is deploy/agent/Dockerfile).
#
# Build:  docker build -t ghcr.io/faultline-dev/faultline:0.1.0 .
# Push:   docker push ghcr.io/faultline-dev/faultline:0.1.0
#
# Three stages: `build` compiles the TypeScript with the dev dependencies (`npm run build` -> dist/),
# `deps` installs the production dependencies only, and `runtime` holds dist/, those node_modules,
# package.json and schemas/ (read at run time by src/config), plus git -- no tsx, no compiler, no tests.
# It runs as a non-root user and writes nothing outside FAULTLINE_DATA_DIR and /tmp, so it works
# with readOnlyRootFilesystem: true (deploy/base/deployment.yaml mounts emptyDirs on both).
# test/build/dockerfile.test.ts checks these stages against package.json and the build script.
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    FAULTLINE_DATA_DIR=/var/lib/faultline
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY schemas ./schemas
# git (and the CAs it needs for https): the controller fetches with native git when it is installed,
# several times faster than isomorphic-git on big repositories (src/source); apt's lists are dropped.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# The `node` user of the node images has uid 1000; the Deployment runs it as 10001 (any uid works:
# the image's files are world-readable and nothing in /app is written).
USER 10001:10001
VOLUME ["/var/lib/faultline"]
EXPOSE 8080
HEALTHCHECK --interval=20s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.FAULTLINE_PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run", "--config", "/etc/faultline/faultline.yaml"]
