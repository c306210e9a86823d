import { plainToInstance, Transform } from 'class-transformer';
import { isIP } from 'node:net';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy, validateSync } from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Durations in configuration: `90s`, `15m`, `12h`, `7d`. */
const DURATION = /^(\d+)(s|m|h|d)$/;

export function parseDuration(value: string): number {
  const m = DURATION.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/**
 * Passwords copied from an example or a template: a deployment that kept one is open to anyone
 * who read the example.
 */
export function isPlaceholder(password: string): boolean {
  const text = password.toLowerCase();
  return (
    text.includes('placeholder') ||
    /change[-_ .]?(me|it|this)/.test(text) ||
    /^(password|passw0rd|p@ssw0rd|p@ssword|secret|admin|qwerty|letmein|default|example)+[\d!._-]*$/.test(text) ||
    /^(123456789?0?|1234567890)+$/.test(text)
  );
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** A proxy list as proxy-addr (Fastify's trustProxy) takes it: addresses, CIDR ranges and the names of the private ranges. */
function isProxyList(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return value.split(',').every((item) => {
    const [address = '', prefix, ...rest] = item.trim().split('/');
    if (PROXY_NAMES.includes(address) && prefix === undefined) return true;
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
  });
}

/**
 * The service's whole configuration (DESIGN §4) as the environment gives it, read once at boot.
 * DATABASE_URL may be unset: `npm start` and the CLI then run an embedded Postgres under DATA_DIR
 * and go on with `withDatabaseUrl(its URL)`.
 */
export class AppSettings {
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// URL' })
  REDIS_URL?: string;

  @IsString()
  DATA_DIR = 'var';

  @Matches(/^[A-Za-z0-9_{}-]+$/, { message: 'may hold only letters, digits, _, -, { and }' })
  QUEUE_PREFIX = 'contacts';

  @Transform(toInt)
  @IsInt({ message: 'must be a port number' })
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  PUBLIC_URL?: string;

  @IsOptional()
  @Matches(/^smtps?:\/\/.+/, { message: 'must be an smtp:// URL' })
  SMTP_URL?: string;

  @IsOptional()
  @IsString()
  MAIL_OUTBOX_DIR?: string;

  @IsString()
  MAIL_FROM = 'no-reply@localhost';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number from 4 to 15' })
  @Min(4, { message: 'must be a whole number from 4 to 15' })
  @Max(15, { message: 'must be a whole number from 4 to 15' })
  BCRYPT_COST = 12;

  @IsOptional()
  @IsString()
  @Matches(/^.{32,}$/, { message: 'must be at least 32 characters' })
  TOKEN_SECRET?: string;

  @Matches(DURATION, { message: 'must be a duration such as 7d, 12h or 30m' })
  INVITE_TTL = '7d';

  /** Requests a minute per client (per IP without a valid token) on /api and /oauth/token; 0 turns the limit off. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of requests a minute (0: no limit)' })
  @Min(0, { message: 'must be a whole number of requests a minute (0: no limit)' })
  RATE_LIMIT_PER_MINUTE = 1200;

  /** Requests a minute each client address may send to the invite page (/invites), whatever RATE_LIMIT_PER_MINUTE is. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of requests a minute, at least 1' })
  @Min(1, { message: 'must be a whole number of requests a minute, at least 1' })
  INVITE_RATE_LIMIT_PER_MINUTE = 60;

  /**
   * The reverse proxies in front of the API whose X-Forwarded-For names the client (for the rate
   * limit and the logs): addresses or CIDR ranges, comma-separated, or loopback, linklocal,
   * uniquelocal. Unset: none is trusted, and the client is the connection's peer.
   */
  @IsOptional()
  @ValidateBy({
    name: 'isProxyList',
    validator: {
      validate: isProxyList,
      defaultMessage: () => `must be IP addresses or CIDR ranges, comma-separated, or ${PROXY_NAMES.join(', ')}`,
    },
  })
  TRUST_PROXY?: string;

  /** How long a job stays claimed by a worker that stopped renewing its lock (a killed worker's job waits this long before another takes it). */
  @Matches(DURATION, { message: 'must be a duration such as 30s or 2m' })
  JOB_LOCK_DURATION = '30s';

  /** The user name of the queue dashboard at /admin/queues (HTTP Basic). */
  @Matches(/^[^:\s]{1,64}$/, { message: 'must be 1 to 64 characters without spaces or ":"' })
  ADMIN_USER = 'admin';

  /** The password of the queue dashboard at /admin/queues; unset: the dashboard is off (404). */
  @IsOptional()
  @IsString()
  @Matches(/^.{12,}$/, { message: 'must be at least 12 characters' })
  @ValidateBy({
    name: 'isNotPlaceholder',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !isPlaceholder(value),
      defaultMessage: () => 'is a placeholder from an example; set a password of your own',
    },
  })
  ADMIN_PASSWORD?: string;

  /**
   * The key `cli verify --anchor` signs chain anchors with and `verify --against` checks them by;
   * kept outside the database (whoever can rewrite the log must not hold it). Needed by those flags only.
   */
  @IsOptional()
  @IsString()
  @Matches(/^.{32,}$/, { message: 'must be at least 32 characters' })
  CHAIN_ANCHOR_KEY?: string;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  get publicUrl(): string {
    return (this.PUBLIC_URL ?? `http://localhost:${this.PORT}`).replace(/\/+$/, '');
  }

  get mailOutboxDir(): string {
    return this.MAIL_OUTBOX_DIR ?? `${this.DATA_DIR}/outbox`;
  }

  get inviteTtlMs(): number {
    return parseDuration(this.INVITE_TTL);
  }

  get jobLockDurationMs(): number {
    return parseDuration(this.JOB_LOCK_DURATION);
  }

  /** These settings with the database the process connects to (DATABASE_URL, or the embedded Postgres). */
  withDatabaseUrl(url: string): AppConfig {
    return Object.assign(new AppConfig(), this, { DATABASE_URL: url });
  }
}

/** The configuration a process runs with: its database known. */
export class AppConfig extends AppSettings {
  declare DATABASE_URL: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment of a process that needs DATABASE_URL; the first bad (or
 * missing) variable is named in the error.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const config = readEnvironment(AppConfig, env);
  if (config.DATABASE_URL === undefined) throw new ConfigError('DATABASE_URL', 'is required');
  return config;
}

/**
 * Reads and validates the environment, DATABASE_URL optional (unset: an embedded Postgres, which
 * `npm start` and the CLI run); the first bad variable is named in the error.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): AppSettings {
  return readEnvironment(AppSettings, env);
}

function readEnvironment<T extends AppSettings>(type: new () => T, env: NodeJS.ProcessEnv): T {
  const known = Object.keys(new AppSettings()).concat([
    'DATABASE_URL',
    'REDIS_URL',
    'PUBLIC_URL',
    'SMTP_URL',
    'MAIL_OUTBOX_DIR',
    'TOKEN_SECRET',
    'ADMIN_PASSWORD',
    'TRUST_PROXY',
    'CHAIN_ANCHOR_KEY',
  ]);
  const given: Record<string, string> = {};
  for (const key of new Set(known)) {
    const value = env[key];
    if (value !== undefined && value !== '') given[key] = value;
  }
  const config = plainToInstance(type, given);
  const [first] = validateSync(config, { forbidUnknownValues: false });
  if (first) {
    const message = Object.values(first.constraints ?? {})[0] ?? 'is invalid';
    // class-validator's own messages start with the property name; the error names it once.
    const reason = first.value === undefined ? 'is required' : message.replace(new RegExp(`^${first.property}\\s+`), '');
    throw new ConfigError(first.property, reason);
  }
  return config;
}
