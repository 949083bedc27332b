# syntax=docker/dockerfile:1
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The commit goes in the start log line and /readyz (src/version.ts); .git is not in the build context.
ARG GIT_COMMIT=
RUN npm run build && npm prune --omit=dev && printf '%s' "$GIT_COMMIT" > COMMIT

FROM node:22-bookworm-slim
ENV NODE_ENV=production DATA_DIR=/data PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/COMMIT ./COMMIT
COPY package.json manifest.yml ./
# The embedded store lives in the volume; the non-root user owns it. (.env.example leaves DATA_DIR unset, so
# `docker run --env-file .env` keeps this one.)
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node directly (not npm): SIGTERM from `docker stop` reaches the bot, which drains for up to 10 s.
CMD ["node", "dist/main.js"]
