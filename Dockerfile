# syntax=docker/dockerfile:1
# One image for every role (docs/contracts.md): the role is the container argument,
# e.g. `docker run ticketing:dev writer`; default `api`.

# ---- build ------------------------------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /app
ENV NODE_ENV=development \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build \
 && npm prune --omit=dev \
 && mkdir -p seeds src/web/app \
 && rm -rf node_modules/.cache

# ---- runtime ----------------------------------------------------------------------------
FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    ROLE=api \
    PORT=8080 \
    METRICS_PORT=9464 \
    SEEDS_DIR=/app/seeds \
    TMPDIR=/tmp \
    npm_config_cache=/tmp/.npm
WORKDIR /app
# Everything is owned by root and read-only for the process: the container runs with
# readOnlyRootFilesystem and writes only to /tmp (an emptyDir in the Helm chart).
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/seeds ./seeds
COPY --from=build /app/src/web/app ./src/web/app
USER node
EXPOSE 8080 9464
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["api"]
