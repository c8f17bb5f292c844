# syntax=docker/dockerfile:1
# FlexCore image: compiled JavaScript and production dependencies only, running as non-root.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci can fail to fetch (TLS, proxy) and still exit 0 with an empty node_modules: check.
RUN npm ci --no-audit --no-fund && test -x node_modules/.bin/tsc
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY controller ./controller
COPY hack/copy-assets.mjs ./hack/copy-assets.mjs
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && test -f node_modules/@kubernetes/client-node/package.json

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY crds ./crds
COPY controller/cli/flexcore.mjs ./controller/cli/flexcore.mjs
# 65532: the conventional unprivileged "nonroot" user; numeric so runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["node", "/app/controller/cli/flexcore.mjs"]
CMD ["help"]
