import { readFileSync } from 'node:fs';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
import { AppConfig, loadConfig } from '@app/config';

/**
 * There is no Docker engine where the tests run: these read docker-compose.yml and the Dockerfile
 * as Compose and BuildKit would, and check them against the configuration the app validates
 * (DESIGN §4) and the processes it has (DESIGN §2, §9).
 */

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

type Env = Record<string, string>;

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}

interface Service {
  image?: string;
  build?: string | { context: string };
  pull_policy?: string;
  restart?: string;
  command?: string[];
  environment?: Env;
  ports?: string[];
  expose?: string[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  configs?: { source: string; target: string }[];
  volumes?: string[];
  container_name?: string;
}

interface Compose {
  services: Record<string, Service>;
  configs?: Record<string, { content?: string }>;
  volumes?: Record<string, unknown>;
}

/**
 * Compose's interpolation: `$$` is a literal `$`; `${NAME}`, `$NAME`, `${NAME:-default}` and
 * `${NAME-default}` take the variable from `env`. A variable that is unset and has no default
 * fails here (Compose would put an empty string in its place, with only a warning).
 */
function interpolate(text: string, env: Env): string {
  return text.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, escaped: string, braced?: string, colon?: string, fallback?: string, bare?: string) => {
      if (escaped === '$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      if (value !== undefined && (value !== '' || colon !== ':')) return value;
      if (fallback !== undefined) return fallback;
      throw new Error(`docker-compose.yml uses ${whole}, which is unset and has no default`);
    },
  );
}

/** The file as `docker compose config` would resolve it with nothing set in the environment or .env. */
function loadCompose(): Compose {
  const document: unknown = parse(read('docker-compose.yml'), { merge: true });
  return JSON.parse(interpolate(JSON.stringify(document), {})) as Compose;
}

/** A port mapping `[ip:]host:container`, as written in `ports`. */
function parsePort(mapping: string): { ip: string | null; host: number; container: number } {
  const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)$/.exec(mapping);
  if (!m) throw new Error(`not an [ip:]host:container port mapping: ${mapping}`);
  return { ip: m[1] ?? null, host: Number(m[2]), container: Number(m[3]) };
}

/** Every environment variable AppConfig validates (its optional ones too). */
function configVariables(): Set<string> {
  const decorated = getMetadataStorage()
    .getTargetValidationMetadatas(AppConfig, '', false, false)
    .map((m) => m.propertyName);
  return new Set([...Object.keys(new AppConfig()), ...decorated]);
}

const APP_SERVICES = ['migrate', 'api', 'worker'];
const LONG_RUNNING_APP_SERVICES = ['api', 'worker'];

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const services = compose.services;
  const service = (name: string): Service => {
    const found = services[name];
    if (!found) throw new Error(`no service ${name}`);
    return found;
  };
  const env = (name: string): Env => service(name).environment ?? {};

  it('runs Postgres, Redis, the SMTP sink, migrations, the API, the worker and a proxy in front of the API', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'mailpit', 'migrate', 'postgres', 'proxy', 'redis', 'worker']);
    expect(service('postgres').image).toMatch(/^postgres:\d+/);
    expect(service('redis').image).toMatch(/^redis:\d+/);
    expect(service('mailpit').image).toMatch(/^axllent\/mailpit:/);
    expect(service('proxy').image).toMatch(/^nginx:\d+\.\d+/);
  });

  it('runs two API replicas and two workers, which Compose can only do without container names', () => {
    for (const name of LONG_RUNNING_APP_SERVICES) {
      expect({ name, replicas: service(name).deploy?.replicas }).toEqual({ name, replicas: 2 });
      expect(service(name).container_name).toBeUndefined();
    }
  });

  it('keeps Redis from evicting queue keys and persists them with AOF', () => {
    const command = service('redis').command ?? [];
    const option = (flag: string): string | undefined => command[command.indexOf(flag) + 1];

    expect(command[0]).toBe('redis-server');
    expect(option('--maxmemory-policy')).toBe('noeviction');
    expect(option('--appendonly')).toBe('yes');
    expect(service('redis').volumes).toEqual(['redis-data:/data']);
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['redis-data', 'postgres-data']));
  });

  it('builds one image from the Dockerfile and runs migrate, the API and the worker from it, never pulling it', () => {
    const image = service('migrate').image;
    expect(image).toBeTruthy();
    expect(service('migrate').build).toBe('.');
    expect(service('migrate').pull_policy).toBe('build');
    for (const name of ['api', 'worker']) {
      expect({ name, image: service(name).image, build: service(name).build, pull: service(name).pull_policy }).toEqual({
        name,
        image,
        build: undefined,
        pull: 'never',
      });
    }
  });

  it('starts each app process from a file the build produces', () => {
    const entry = (name: string): string => {
      const [node, main, ...args] = service(name).command ?? [];
      expect(node).toBe('node');
      return [main, ...args].join(' ');
    };
    const source = (main: string): string => main.replace(/^dist\//, '').replace(/\.js$/, '.ts');

    expect(entry('migrate')).toBe('dist/apps/cli/src/main.js migrate');
    expect(entry('api')).toBe('dist/apps/api/src/main.js');
    expect(entry('worker')).toBe('dist/apps/worker/src/main.js');
    for (const main of ['dist/apps/cli/src/main.js', 'dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js']) {
      expect(() => read(source(main))).not.toThrow();
    }
    expect(service('migrate').restart).toBe('no');
  });

  it('sets only variables the app reads, and every app service passes its configuration validation', () => {
    const known = configVariables();
    for (const name of APP_SERVICES) {
      const given = env(name);
      expect({ name, unknown: Object.keys(given).filter((key) => !known.has(key)) }).toEqual({ name, unknown: [] });

      const config = loadConfig(given) as unknown as Record<string, unknown>;

      // Each value is the one the app ends up with: none is ignored or rewritten. An empty one
      // (ADMIN_PASSWORD when the environment sets none) is unset.
      for (const [key, value] of Object.entries(given))
        expect({ name, key, value: String(config[key]) }).toEqual({ name, key, value: value === '' ? 'undefined' : value });
    }
  });

  it('gives the API and the worker the same database, queue store, queue prefix, mail and public URL', () => {
    const shared = ['DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX', 'SMTP_URL', 'PUBLIC_URL', 'MAIL_FROM'];
    const pick = (e: Env): Env => Object.fromEntries(shared.map((key) => [key, e[key] ?? '(unset)']));

    expect(pick(env('worker'))).toEqual(pick(env('api')));
    expect(pick(env('migrate')).DATABASE_URL).toBe(env('api').DATABASE_URL);
    // Unset, the secret is generated once and kept in the database: every replica signs alike.
    expect(env('api').TOKEN_SECRET).toBeUndefined();
  });

  it('points every URL at a service of this file, on the port that service listens on', () => {
    const postgres = env('postgres');
    const database = new URL(env('api').DATABASE_URL ?? '');
    expect(database.protocol).toBe('postgres:');
    expect(database.hostname).toBe('postgres');
    expect(database.port || '5432').toBe('5432');
    expect(database.pathname).toBe(`/${postgres.POSTGRES_DB}`);
    expect(decodeURIComponent(database.username)).toBe(postgres.POSTGRES_USER);
    expect(decodeURIComponent(database.password)).toBe(postgres.POSTGRES_PASSWORD);

    const redis = new URL(env('api').REDIS_URL ?? '');
    expect([redis.protocol, redis.hostname, redis.port || '6379']).toEqual(['redis:', 'redis', '6379']);

    const smtp = new URL(env('api').SMTP_URL ?? '');
    expect([smtp.protocol, smtp.hostname, smtp.port]).toEqual(['smtp:', 'mailpit', '1025']);
  });

  it('links invite mail to the address the proxy is published on', () => {
    const published = (service('proxy').ports ?? []).map(parsePort);
    const publicUrl = new URL(env('api').PUBLIC_URL ?? '');

    expect(published.map((p) => p.host)).toContain(Number(publicUrl.port));
    expect(publicUrl.hostname).toBe('localhost');
  });

  it('publishes the proxy (3000), the Mailpit UI (8025) and its SMTP port (1025), on 127.0.0.1 only, and nothing else', () => {
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, ...parsePort(p) })));

    expect(published).toEqual([
      { name: 'mailpit', ip: '127.0.0.1', host: 8025, container: 8025 },
      { name: 'mailpit', ip: '127.0.0.1', host: 1025, container: 1025 },
      { name: 'proxy', ip: '127.0.0.1', host: 3000, container: 80 },
    ]);
  });

  it('load-balances the proxy over every API replica, re-resolving the service name', () => {
    const mount = service('proxy').configs?.[0];
    expect(mount?.target).toBe('/etc/nginx/conf.d/default.conf');
    const nginx = compose.configs?.[mount?.source ?? '']?.content ?? '';
    const apiPort = env('api').PORT;
    const listens = /listen\s+(\d+);/.exec(nginx)?.[1];

    expect(nginx).toMatch(new RegExp(`server\\s+api:${apiPort}\\s+resolve;`));
    expect(nginx).toMatch(/resolver\s+127\.0\.0\.11\b/);
    expect(nginx).toMatch(/proxy_pass\s+http:\/\/api;/);
    expect(Number(listens)).toBe(parsePort(service('proxy').ports?.[0] ?? '').container);
    // Compose turned $$ into $: nginx's own variables reach it intact.
    expect(nginx).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    // Larger than the API's 1 MiB limit, so the API answers oversized bodies with its problem document.
    expect(Number(/client_max_body_size\s+(\d+)m;/.exec(nginx)?.[1])).toBeGreaterThan(1);
  });

  it('has a health check on every long-running service except the worker, and the API checks readiness on its own port', () => {
    for (const name of ['postgres', 'redis', 'mailpit', 'api', 'proxy']) {
      const test = service(name).healthcheck?.test;
      expect({ name, test: Array.isArray(test) && test.length > 1 && service(name).healthcheck?.disable !== true }).toEqual({
        name,
        test: true,
      });
    }
    const apiTest = service('api').healthcheck?.test ?? [];
    const apiCheck = Array.isArray(apiTest) ? apiTest.join(' ') : apiTest;
    expect(apiCheck).toContain(`http://127.0.0.1:${env('api').PORT}/health'`);
    // The worker serves no HTTP: nothing to probe, and the image defines no check it would fail.
    expect(service('worker').healthcheck).toBeUndefined();
  });

  it('starts migrations once Postgres is healthy, and the API and the worker only after they completed and Redis is healthy', () => {
    expect(service('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of LONG_RUNNING_APP_SERVICES) {
      const after = service(name).depends_on ?? {};
      expect({ name, migrate: after.migrate?.condition, redis: after.redis?.condition, postgres: after.postgres?.condition }).toEqual({
        name,
        migrate: 'service_completed_successfully',
        redis: 'service_healthy',
        postgres: 'service_healthy',
      });
    }
    expect(service('proxy').depends_on).toEqual({ api: { condition: 'service_healthy' } });
  });

  it('waits only on conditions a dependency can meet', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = service(dependency);
        const meets =
          condition === 'service_started' ||
          (condition === 'service_healthy' && Array.isArray(target.healthcheck?.test)) ||
          (condition === 'service_completed_successfully' && target.restart === 'no');
        expect({ name, dependency, condition, meets }).toEqual({ name, dependency, condition, meets: true });
      }
    }
  });

  it('leaves the queue dashboard off unless ADMIN_PASSWORD is set: no placeholder password by default', () => {
    expect(env('api').ADMIN_PASSWORD).toBe('');
    expect(loadConfig({ ...env('api'), DATABASE_URL: 'postgres://localhost/x' }).ADMIN_PASSWORD).toBeUndefined();
    expect(env('worker').ADMIN_PASSWORD).toBeUndefined();
  });

  it('takes ADMIN_PASSWORD from the environment when it is set', () => {
    const raw: unknown = parse(read('docker-compose.yml'), { merge: true });
    const withPassword = JSON.parse(interpolate(JSON.stringify(raw), { ADMIN_PASSWORD: 'a-real-secret-from-env' })) as Compose;

    expect(withPassword.services.api?.environment?.ADMIN_PASSWORD).toBe('a-real-secret-from-env');
  });
});

describe('Dockerfile', () => {
  interface Instruction {
    keyword: string;
    args: string;
  }
  interface Stage {
    from: string;
    name: string | null;
    instructions: Instruction[];
  }

  /** Instructions with continuation lines joined and comments dropped, grouped by stage. */
  function stagesOf(text: string): { args: Map<string, string>; stages: Stage[] } {
    const lines = text
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.trim());
    const args = new Map<string, string>();
    const stages: Stage[] = [];
    for (const line of lines) {
      if (line === '' || line.startsWith('#')) continue;
      const [keyword = '', ...rest] = line.split(/\s+/);
      const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
      if (instruction.keyword === 'FROM') {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
        stages.push({ from: m?.[1] ?? '', name: m?.[2] ?? null, instructions: [] });
      } else if (stages.length === 0 && instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=');
        args.set(name, value);
      } else {
        stages.at(-1)?.instructions.push(instruction);
      }
    }
    return { args, stages };
  }

  const { args, stages } = stagesOf(read('Dockerfile'));
  const runtime = stages.at(-1);
  const all = (stage: Stage | undefined, keyword: string): string[] =>
    stage?.instructions.filter((i) => i.keyword === keyword).map((i) => i.args) ?? [];
  const stage = (name: string): Stage | undefined => stages.find((s) => s.name === name);
  /** A stage with everything it inherits from the stages it is built FROM. */
  const lineage = (s: Stage | undefined): Stage[] => (s ? [...lineage(stage(s.from)), s] : []);

  it('builds in one stage and runs from another that holds no build tooling', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => all(s, 'RUN').some((r) => r.includes('npm run build')));
    expect(build?.name).toBeTruthy();
    expect(build).not.toBe(runtime);
    expect(all(runtime, 'COPY')).toContain(`--from=${build?.name} /app/dist ./dist`);
    expect(all(runtime, 'RUN').join('\n')).not.toContain('npm run build');
  });

  it('installs production dependencies only in the runtime stage, from the lockfile', () => {
    const runs = all(runtime, 'RUN').join('\n');

    expect(runs).toMatch(/\bnpm ci --omit=dev\b/);
    expect(runs).not.toMatch(/\bnpm (install|i)\b/);
    expect(all(runtime, 'ENV')).toContain('NODE_ENV=production');
  });

  it('copies into the build stage everything the build script compiles', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const inputs = /\bswc\s+(.+?)\s+-d\b/.exec(pkg.scripts.build ?? '')?.[1]?.split(/\s+/) ?? [];
    const copied = lineage(stages.find((s) => all(s, 'RUN').some((r) => r.includes('npm run build'))))
      .flatMap((s) => all(s, 'COPY'))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));

    expect(inputs).toEqual(['apps', 'libs', 'bench']);
    expect(copied).toEqual(expect.arrayContaining([...inputs, '.swcrc', 'package.json', 'package-lock.json']));
  });

  it('runs as an unprivileged user', () => {
    const users = lineage(runtime).flatMap((s) => all(s, 'USER'));

    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('starts the API by default, and defines no health check the worker would fail', () => {
    expect(all(runtime, 'CMD')).toEqual(['["node", "dist/apps/api/src/main.js"]']);
    expect(all(runtime, 'EXPOSE')).toEqual(['3000']);
    expect(stages.flatMap((s) => all(s, 'HEALTHCHECK'))).toEqual([]);
  });

  it('uses the npm that honours package.json allowScripts, on a Node every dependency supports', () => {
    const npm = stages.flatMap((s) => all(s, 'RUN')).join('\n');
    const major = Number(args.get('NODE_VERSION'));
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } }> };
    const minimums = Object.entries(lock.packages)
      .map(([path, entry]) => ({ path, min: Number(/^>=\s*(\d+)/.exec(entry.engines?.node ?? '')?.[1] ?? 0) }))
      .filter((e) => e.min > major);

    expect(npm).toMatch(/npm install --global npm@11\.\d+\.\d+/);
    expect(stages[0]?.from).toBe('node:${NODE_VERSION}-bookworm-slim');
    expect(major).toBeGreaterThanOrEqual(22);
    expect(minimums).toEqual([]);
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, builds, state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));

    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'var', '.env', '.env.*']));
  });
});
