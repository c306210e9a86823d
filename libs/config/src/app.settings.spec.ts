import { AppConfig, AppSettings, ConfigError, loadConfig, loadSettings } from './app.config.js';

describe(loadSettings.name, () => {
  it('leaves DATABASE_URL unset when the environment does (the embedded Postgres then) and fills the other defaults', () => {
    const sut = loadSettings({});

    expect(sut).toBeInstanceOf(AppSettings);
    expect(sut.DATABASE_URL).toBeUndefined();
    expect(sut).toMatchObject({ DATA_DIR: 'var', PORT: 3000, QUEUE_PREFIX: 'contacts' });
    expect(sut.mailOutboxDir).toBe('var/outbox');
  });

  it('gives the configuration a process runs with once the database is known, keeping every setting', () => {
    const settings = loadSettings({ DATA_DIR: '/srv/contacts', PORT: '8080', BCRYPT_COST: '4' });

    const sut = settings.withDatabaseUrl('postgres://postgres:secret@127.0.0.1:54321/contacts');

    expect(sut).toBeInstanceOf(AppConfig);
    expect(sut).toMatchObject({
      DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:54321/contacts',
      DATA_DIR: '/srv/contacts',
      PORT: 8080,
      BCRYPT_COST: 4,
    });
    expect(sut.mailOutboxDir).toBe('/srv/contacts/outbox');
    expect(settings.DATABASE_URL).toBeUndefined();
  });

  it('still refuses a DATABASE_URL that is set but not a Postgres URL, naming it', () => {
    expect(() => loadSettings({ DATABASE_URL: 'mysql://localhost/contacts' })).toThrow(
      new ConfigError('DATABASE_URL', 'must be a postgres:// URL'),
    );
  });

  it('takes an empty DATABASE_URL for unset, as every other variable', () => {
    expect(loadSettings({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('is what loadConfig builds on: loadConfig, for a process that needs DATABASE_URL, still requires it', () => {
    expect(() => loadConfig({})).toThrow(new ConfigError('DATABASE_URL', 'is required'));
    expect(loadConfig({ DATABASE_URL: 'postgres://db/contacts' })).toBeInstanceOf(AppConfig);
  });
});
