import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FixedClock } from '@app/config';
import type { ContactView } from '@app/contacts';
import { freePort } from '../support/dist-processes.js';
import { aCreatedContact, aGuestPayload, updateContact } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

/** Debian's chromium (`.ci/run` installs it); playwright-core drives it, with no browser download. */
const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/console/', import.meta.url));
const CREATED_AT = new Date('2026-01-15T10:00:00Z');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

/** The client an access token was issued to (its `sub`). */
const clientIdOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;

/** Does what makes the page navigate, and waits for the page it leads to (through any redirect). */
async function navigating(page: Page, action: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForNavigation(), action()]);
}

/** axe-core's serious and critical findings on the page as it stands: none is the goal. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('the auditors’ console in a browser', () => {
  let api: TestApi;
  let token: string;
  let browser: Browser;
  let base: string;
  let contact: ContactView;

  beforeAll(async () => {
    const port = await freePort();
    ({ api, token } = await createTestApiWithToken({ label: 'consolebrowser', clock: new FixedClock(CREATED_AT) }));
    await api.app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    contact = await aCreatedContact(
      api,
      token,
      aGuestPayload({ firstname: 'Ada', lastname: 'Lovelace', company: 'Analytical Engines', tags: { contact: ['mathematics'] } }),
    );
    api.clock.advance(60 * 60 * 1000);
    await updateContact(api, token, contact.id, { lastname: 'King', company: 'Ockham Park' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    await mkdir(OUTPUT, { recursive: true });
  });

  afterAll(async () => {
    await browser.close();
    await api.close();
  });

  /** Signs in with the keyboard alone: type, Tab, type, Enter. */
  async function signIn(page: Page, clientId: string, secret: string): Promise<void> {
    await page.goto(`${base}/console`);
    await page.getByLabel('Client ID').focus();
    await page.keyboard.type(clientId);
    await page.keyboard.press('Tab');
    await page.keyboard.type(secret);
    await navigating(page, () => page.keyboard.press('Enter'));
  }

  /** Breaks the contact's chain as the database owner could: the append-only trigger off, for one update. */
  async function tamperWithVersion(version: number): Promise<void> {
    const client = await api.database.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
      await client.query(`UPDATE events SET data = jsonb_set(data, '{lastname}', '"Byron"') WHERE stream_id = $1 AND stream_version = $2`, [
        contact.id,
        version,
      ]);
      await client.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  it('signs in, searches, opens a contact with its timeline, diff, as-of state and chain, sees tampering, and signs out', async () => {
    const auditor = await api.client(['audit']);
    const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();

    await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${OUTPUT}sign-in-1280.png`, fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: `${OUTPUT}sign-in-390.png`, fullPage: true });
    await page.setViewportSize(DESKTOP);

    await signIn(page, auditor.client_id, auditor.client_secret);
    expect(new URL(page.url()).pathname).toBe('/console');
    await expect(page.getByText(`Signed in as ${auditor.client_id}`).isVisible()).resolves.toBe(true);

    await page.getByLabel('Search').fill('lovelace king');
    await navigating(page, () => page.getByLabel('Search').press('Enter'));
    await expect(page.getByRole('heading', { name: 'No contact matches' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Search').fill('Ada');
    await navigating(page, () => page.getByRole('button', { name: 'Search' }).click());
    const result = page.getByRole('link', { name: 'Ada King' });
    expect(await result.count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${OUTPUT}search-1280.png`, fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: `${OUTPUT}search-390.png`, fullPage: true });
    await page.setViewportSize(DESKTOP);

    await result.focus();
    await navigating(page, () => page.keyboard.press('Enter'));
    expect(page.url()).toBe(`${base}/console/contacts/${contact.id}`);
    expect(await page.locator('h1').textContent()).toBe('Ada King');
    await expect(page.getByText('Chain verified').isVisible()).resolves.toBe(true);
    const entries = page.locator('.timeline > li');
    expect(await entries.count()).toBe(3);
    expect(await entries.locator('h3').allTextContents()).toEqual(['ContactUpdated', 'TagsSet', 'ContactCreated']);
    const newest = entries.first();
    await expect(newest.getByText('2026-01-15T11:00:00+00:00').isVisible()).resolves.toBe(true);
    await expect(newest.getByText(`client ${clientIdOf(token)}`).isVisible()).resolves.toBe(true);
    const lastnameRow = newest.getByRole('row', { name: /lastname/ });
    expect(await lastnameRow.locator('td').allTextContents()).toEqual(['Lovelace', 'King']);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${OUTPUT}contact-1280.png`, fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: `${OUTPUT}contact-390.png`, fullPage: true });
    await page.setViewportSize(DESKTOP);

    await page.getByLabel('As of').fill('2026-01-15T10:30:00');
    await navigating(page, () => page.getByRole('button', { name: 'Show' }).click());
    const asOf = page.locator('section', { has: page.getByLabel('As of') });
    await expect(asOf.getByText('As of 2026-01-15T10:30:00+00:00').isVisible()).resolves.toBe(true);
    expect(await asOf.locator('dt:text-is("Last name") + dd').textContent()).toBe('Lovelace');
    expect(await asOf.locator('dt:text-is("Company") + dd').textContent()).toBe('Analytical Engines');
    await page.screenshot({ path: `${OUTPUT}contact-as-of-1280.png`, fullPage: true });
    await page.getByLabel('As of').fill('2026-01-15T09:00:00');
    await navigating(page, () => page.getByRole('button', { name: 'Show' }).click());
    await expect(page.getByText('The contact did not exist yet at that moment.').isVisible()).resolves.toBe(true);
    expect(await seriousViolations(page)).toEqual([]);

    await tamperWithVersion(3);
    await page.reload();
    await expect(page.getByText('Chain broken at version 3').isVisible()).resolves.toBe(true);
    await expect(page.getByText('Chain verified').count()).resolves.toBe(0);
    await page.screenshot({ path: `${OUTPUT}contact-broken-1280.png`, fullPage: true });

    await navigating(page, () => page.getByRole('link', { name: 'Feed' }).click());
    await page.getByLabel('Type').selectOption('ContactUpdated');
    await page.getByLabel('Client').fill(auditor.client_id);
    await navigating(page, () => page.getByRole('button', { name: 'Filter' }).click());
    await expect(page.getByText('No event matches.').isVisible()).resolves.toBe(true);
    await page.getByLabel('Client').fill('');
    await navigating(page, () => page.getByRole('button', { name: 'Filter' }).click());
    expect(await page.locator('.feed > li').count()).toBe(1);
    await expect(page.getByRole('link', { name: `contact ${contact.id}` }).isVisible()).resolves.toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${OUTPUT}feed-1280.png`, fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: `${OUTPUT}feed-390.png`, fullPage: true });

    await navigating(page, () => page.getByRole('button', { name: 'Sign out' }).click());
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.goto(`${base}/console/contacts/${contact.id}`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.context().close();
  }, 90_000);

  it('refuses a client without the audit scope, with a message the sign-in form shows', async () => {
    const reader = await api.client(['contacts', 'contacts.readonly']);
    const page = await (await browser.newContext({ viewport: PHONE })).newPage();

    await signIn(page, reader.client_id, reader.client_secret);

    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await page.getByRole('alert').textContent()).toContain('This client does not hold the audit scope');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${OUTPUT}refused-390.png`, fullPage: true });
    await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.context().close();
  }, 60_000);
});
