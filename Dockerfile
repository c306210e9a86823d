# syntax=docker/dockerfile:1

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR (default var/) holds the mail outbox and, without DATABASE_URL, the embedded Postgres.
RUN mkdir var && chown node:node var
USER node
EXPOSE 3000
CMD ["node", "dist/apps/api/src/main.js"]
