import { AppConfig, ConfigError, loadConfig, parseDuration } from './app.config.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/contacts';

/** An environment as the process would see it: only DATABASE_URL unless overridden. */
const anEnv = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({ DATABASE_URL, ...overrides });

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to refuse the environment');
}

describe(loadConfig.name, () => {
  it('fills every default of DESIGN §4', () => {
    const sut = loadConfig(anEnv());

    expect(sut).toBeInstanceOf(AppConfig);
    expect(sut).toMatchObject({
      DATABASE_URL,
      DATA_DIR: 'var',
      QUEUE_PREFIX: 'contacts',
      PORT: 3000,
      HOST: '0.0.0.0',
      MAIL_FROM: 'no-reply@localhost',
      BCRYPT_COST: 12,
      INVITE_TTL: '7d',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: 1200,
    });
    expect(sut.REDIS_URL).toBeUndefined();
    expect(sut.SMTP_URL).toBeUndefined();
    expect(sut.TOKEN_SECRET).toBeUndefined();
    expect(sut.publicUrl).toBe('http://localhost:3000');
    expect(sut.mailOutboxDir).toBe('var/outbox');
    expect(sut.inviteTtlMs).toBe(7 * 86_400_000);
  });

  it('derives the public URL and the outbox from PORT and DATA_DIR', () => {
    const sut = loadConfig(anEnv({ PORT: '8080', DATA_DIR: '/srv/contacts' }));

    expect(sut.PORT).toBe(8080);
    expect(sut.publicUrl).toBe('http://localhost:8080');
    expect(sut.mailOutboxDir).toBe('/srv/contacts/outbox');
  });

  it('takes what the environment sets', () => {
    const sut = loadConfig(
      anEnv({
        REDIS_URL: 'redis://cache:6379/2',
        PUBLIC_URL: 'https://contacts.example.com/',
        BCRYPT_COST: '4',
        INVITE_TTL: '36h',
        LOG_LEVEL: 'silent',
        MAIL_OUTBOX_DIR: '/tmp/outbox',
      }),
    );

    expect(sut).toMatchObject({ REDIS_URL: 'redis://cache:6379/2', BCRYPT_COST: 4, LOG_LEVEL: 'silent' });
    expect(sut.publicUrl).toBe('https://contacts.example.com');
    expect(sut.inviteTtlMs).toBe(36 * 3_600_000);
    expect(sut.mailOutboxDir).toBe('/tmp/outbox');
  });

  it('treats an empty variable as unset', () => {
    const sut = loadConfig(anEnv({ BCRYPT_COST: '', REDIS_URL: '' }));

    expect(sut.BCRYPT_COST).toBe(12);
    expect(sut.REDIS_URL).toBeUndefined();
  });

  it.each([
    ['0', 0],
    ['30', 30],
  ])('takes RATE_LIMIT_PER_MINUTE=%s (0 turns the limit off)', (value, expected) => {
    const sut = loadConfig(anEnv({ RATE_LIMIT_PER_MINUTE: value }));

    expect(sut.RATE_LIMIT_PER_MINUTE).toBe(expected);
  });

  it.each(['127.0.0.1', '10.0.0.0/8, 172.16.0.0/12', 'uniquelocal,loopback', '::1', 'fd00::/8'])('takes TRUST_PROXY=%s', (value) => {
    expect(loadConfig(anEnv({ TRUST_PROXY: value })).TRUST_PROXY).toBe(value);
  });

  it.each(['true', '*', '10.0.0.0/33', '300.1.1.1', 'loopback/8', '10.0.0.0/8/1', '127.0.0.1,'])(
    'refuses TRUST_PROXY=%s, naming it',
    (value) => {
      const error = configError(anEnv({ TRUST_PROXY: value }));

      expect(error.variable).toBe('TRUST_PROXY');
      expect(error.message).toMatch(/^TRUST_PROXY must be IP addresses or CIDR ranges/);
    },
  );

  it.each(['-1', '1.5', 'many'])('refuses RATE_LIMIT_PER_MINUTE=%s, naming it', (value) => {
    const error = configError(anEnv({ RATE_LIMIT_PER_MINUTE: value }));

    expect(error.variable).toBe('RATE_LIMIT_PER_MINUTE');
    expect(error.message).toMatch(/^RATE_LIMIT_PER_MINUTE /);
  });

  it.each(['3', '16', 'abc', '4.5', '-4'])('refuses BCRYPT_COST=%s, naming it', (value) => {
    const error = configError(anEnv({ BCRYPT_COST: value }));

    expect(error.variable).toBe('BCRYPT_COST');
    expect(error.message).toMatch(/^BCRYPT_COST /);
  });

  it('refuses a missing DATABASE_URL, naming it', () => {
    const error = configError(anEnv({ DATABASE_URL: undefined }));

    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).toBe('DATABASE_URL is required');
  });

  it('refuses a DATABASE_URL that is not a Postgres URL', () => {
    expect(configError(anEnv({ DATABASE_URL: 'mysql://localhost/contacts' })).variable).toBe('DATABASE_URL');
  });

  it.each(['7', '7 days', 'd', '1w', '-1d'])('refuses INVITE_TTL=%s, naming it', (value) => {
    const error = configError(anEnv({ INVITE_TTL: value }));

    expect(error.variable).toBe('INVITE_TTL');
    expect(error.message).toMatch(/^INVITE_TTL must be a duration/);
  });

  it.each(['loud', 'INFO', 'warning'])('refuses LOG_LEVEL=%s, naming it', (value) => {
    const error = configError(anEnv({ LOG_LEVEL: value }));

    expect(error.variable).toBe('LOG_LEVEL');
    expect(error.message).toMatch(/^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent$/);
  });

  it.each([
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['TOKEN_SECRET', 'short'],
    ['QUEUE_PREFIX', 'has space'],
  ])('refuses a bad %s, naming it', (variable, value) => {
    expect(configError(anEnv({ [variable]: value })).variable).toBe(variable);
  });

  it('names the variable once in its message', () => {
    expect(configError(anEnv({ PORT: '70000' })).message).toBe('PORT must not be greater than 65535');
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig(anEnv({ HOME: '/root', UNRELATED: 'x' }))).not.toThrow();
  });
});

describe(parseDuration.name, () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('refuses what is not a duration', () => {
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
