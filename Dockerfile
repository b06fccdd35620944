# syntax=docker/dockerfile:1
# Agora's production image: the server compiled to JavaScript, production dependencies only, non-root.
#   docker build -t agora .                                   # Node 22 LTS
#   docker build --build-arg NODE_VERSION=20 -t agora:node20 .
# See docs/deployment.md.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Every dependency, to generate the Prisma client (the `prisma` CLI is a devDependency). No install scripts run:
# nothing in this stack needs one (package.json denies them all in allowScripts), whatever npm the image ships.
FROM base AS build
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx prisma generate && npx tsc -p tsconfig.build.json

# Production dependencies alone, from the same lockfile.
FROM base AS prod-deps
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts

FROM base AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
# Code and dependencies belong to root and are read-only for the app's user; only .data (the embedded database
# used when DATABASE_URL is unset) and /tmp are writable.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY prisma ./prisma
COPY schema ./schema
COPY --from=build /app/dist ./dist
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 4000
STOPSIGNAL SIGTERM
# Liveness: the process answers HTTP. Readiness (database reachable) is /readyz, used by compose and Kubernetes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 and receives SIGTERM, with the V8 settings of npm start (docs/performance.md).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=224", "dist/main.js"]
