# One image for every app: `docker build --build-arg APP=gateway .` (or service-registry, connection,
# token-refresh, invoke-proxy). The apps run from their TypeScript sources through ts-node in transpile-only mode
# (tools/run.js), the same way `npm start` does, so there is no separate build output to keep in step.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ARG APP=gateway
ENV NODE_ENV=production APP=${APP} PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.base.json ./
COPY --chown=node:node tools/run.js tools/migrate.ts ./tools/
COPY --chown=node:node libs ./libs
COPY --chown=node:node apps ./apps
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD node -e "process.env.APP!=='gateway'||fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node tools/run.js apps/${APP}/src/main.ts"]
