import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext } from '@nestjs/common';
import { chromium, type Browser } from 'playwright-core';
import { FixedClock } from '@app/config';
import type { ContactView } from '@app/contacts';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { freePort } from '../support/dist-processes.js';
import { aCreatedContact, aUserPayload, post, readContact, uniqueEmail } from '../support/contact-requests.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

/** Debian's chromium (`.ci/run` installs it); playwright-core drives it, with no browser download. */
const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/invite-browser/', import.meta.url));

describe('the invite page in a browser', () => {
  let api: TestApi;
  let token: string;
  let sink: SmtpSink;
  let worker: INestApplicationContext;
  let browser: Browser;

  beforeAll(async () => {
    sink = await startSmtpSink();
    const port = await freePort();
    ({ api, token } = await createTestApiWithToken({
      label: 'invitebrowser',
      clock: new FixedClock(new Date()),
      env: { SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
    }));
    await api.app.listen(port, '127.0.0.1');
    worker = await createWorker(api.config, { clock: api.clock, logs: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    await mkdir(OUTPUT, { recursive: true });
  });

  afterAll(async () => {
    await browser.close();
    await worker.close();
    await api.close();
    await sink.close();
  });

  it('opens the link from the mail, shows a weak password its error, and sets a good one; no new invite after that', async () => {
    const email = uniqueEmail('browser');
    const contact = await aCreatedContact(
      api,
      token,
      aUserPayload({ email, firstname: 'Grace', lastname: 'Hopper', password: undefined }),
      { invite: true },
    );
    await sink.waitFor(1);
    const link = sink.mails.find((m) => m.to === email)?.link;
    if (!link) throw new Error('the invite mail carries no link');

    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toBe('Set your password');
    await expect(page.getByText('Grace', { exact: false }).first().isVisible()).resolves.toBe(true);
    await expect(page.getByText(email).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: `${OUTPUT}form.png`, fullPage: true });

    await page.getByLabel('Password', { exact: true }).fill('onlyletters');
    await page.getByLabel(/confirm/i).fill('onlyletters');
    await page.getByRole('button', { name: /set password/i }).click();
    await page.waitForLoadState();
    const alert = page.getByRole('alert');
    expect(await alert.count()).toBeGreaterThan(0);
    expect(await alert.first().textContent()).toMatch(/letters and numbers|number/i);
    await page.screenshot({ path: `${OUTPUT}weak-password.png`, fullPage: true });
    expect((await readContact(api, token, contact.id)).hasPassword).toBe(false);

    await page.getByLabel('Password', { exact: true }).fill('good-password-42');
    await page.getByLabel(/confirm/i).fill('good-password-42');
    await page.getByRole('button', { name: /set password/i }).click();
    await page.waitForLoadState();
    expect(await page.locator('h1').textContent()).toBe('Your password is set');
    await page.screenshot({ path: `${OUTPUT}success.png`, fullPage: true });

    const after = await readContact(api, token, contact.id);
    expect(after.hasPassword).toBe(true);
    expect(after.invite?.status).toBe('accepted');
    const again = await post(api, token, `/api/contacts/${contact.id}/invite.json`, {});
    // Accepted once, the user may still get a verification mail (pending `email` grants never dead-end).
    expect(again.statusCode).toBe(202);
    expect(again.json<{ contact: ContactView }>().contact.invite?.status).toBe('pending');
    await page.close();
  }, 60_000);
});
