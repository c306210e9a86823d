import { createHash } from 'node:crypto';
import { PASSWORD_MIN_LENGTH, type InviteUnusableReason } from '@app/contacts';
import { Html, html } from '@app/mail';

/** The only style the pages have; the policy allows exactly this block, by its hash. */
const STYLE = `
body{margin:0;padding:1rem .75rem;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f4f5}
main{box-sizing:border-box;max-width:30rem;margin:0 auto;padding:1.5rem;background:#fff;border:1px solid #d4d4d8;border-radius:.5rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1.5rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin-top:1rem}
input{box-sizing:border-box;width:100%;margin-top:.25rem;padding:.625rem;font:inherit;border:1px solid #71717a;border-radius:.25rem}
input[aria-invalid=true]{border:2px solid #b91c1c}
.hint{margin:.25rem 0 0;color:#52525b;font-size:.875rem}
.error{margin:.25rem 0 0;color:#b91c1c;font-weight:600}
button{width:100%;margin-top:1.5rem;padding:.75rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:.25rem;cursor:pointer}
input:focus-visible,button:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');
/** Our own constant markup: it goes in exactly as written, so the hash matches. */
const STYLE_BLOCK = new Html(STYLE);

/**
 * Headers of every /invites response. The token is in the URL, so nothing may keep the page
 * (no-store) or pass the URL on (no-referrer); the page loads nothing and runs no script.
 */
export const INVITE_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
};

/** The form field the CSRF token travels in. */
export const CSRF_FIELD = '_csrf';

function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${STYLE_BLOCK}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export interface Invitee {
  firstname: string | null;
  lastname: string | null;
  email: string;
}

/** Messages next to the fields they are about. */
export interface FormErrors {
  password?: string;
  confirmation?: string;
}

/** One password field, its hint and its error, tied together for assistive technology. */
function passwordField(name: 'password' | 'confirmation', label: string, hint: string | null, error: string | undefined): Html {
  const describedBy = [hint ? `${name}-hint` : '', error ? `${name}-error` : ''].filter(Boolean).join(' ');
  return html`<label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" required${
    describedBy ? html` aria-describedby="${describedBy}"` : ''
  }${error ? html` aria-invalid="true"` : ''}>
${hint ? html`<p id="${name}-hint" class="hint">${hint}</p>` : ''}
${error ? html`<p id="${name}-error" class="error" role="alert">${error}</p>` : ''}`;
}

/** The invite: who it is for, and the form to choose a password. It posts back to its own URL. */
export function invitePage(invitee: Invitee, csrfToken: string, errors: FormErrors = {}): string {
  return page(
    'Set your password',
    html`<h1>Set your password</h1>
<p>You have been invited to create an account. Check your details, then choose a password.</p>
<dl>
<dt>First name</dt><dd>${invitee.firstname ?? ''}</dd>
<dt>Last name</dt><dd>${invitee.lastname ?? ''}</dd>
<dt>Email</dt><dd>${invitee.email}</dd>
</dl>
<form method="post">
<input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
<input type="email" hidden readonly autocomplete="username" value="${invitee.email}">
${passwordField('password', 'Password', `At least ${PASSWORD_MIN_LENGTH} characters, with both letters and numbers.`, errors.password)}
${passwordField('confirmation', 'Confirm password', null, errors.confirmation)}
<button type="submit">Set password</button>
</form>`,
  );
}

/**
 * The invite of a person who holds a password already: it verifies their email, so the page asks
 * only for a confirmation. It posts back to its own URL without password fields.
 */
export function confirmPage(invitee: Invitee, csrfToken: string): string {
  return page(
    'Confirm your email',
    html`<h1>Confirm your email</h1>
      <p>Check your details, then confirm that this email address is yours. Your password stays as it is.</p>
      <dl>
        <dt>First name</dt>
        <dd>${invitee.firstname ?? ''}</dd>
        <dt>Last name</dt>
        <dd>${invitee.lastname ?? ''}</dd>
        <dt>Email</dt>
        <dd>${invitee.email}</dd>
      </dl>
      <form method="post">
        <input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}" />
        <button type="submit">Confirm email</button>
      </form>`,
  );
}

export function confirmedPage(invitee: Invitee): string {
  return page(
    'Email confirmed',
    html`<h1>Your email is confirmed</h1>
      <p>Thank you${invitee.firstname ? html`, ${invitee.firstname}` : ''}. Your email address ${invitee.email} is confirmed.</p>
      <p>You can close this page.</p>`,
  );
}

export function acceptedPage(invitee: Invitee): string {
  return page(
    'Password set',
    html`<h1>Your password is set</h1>
<p>Thank you${invitee.firstname ? html`, ${invitee.firstname}` : ''}. Your email address ${invitee.email} is confirmed and you can now sign in with your new password.</p>
<p>You can close this page.</p>`,
  );
}

/** Why the link leads nowhere, and the status that says so: gone for good (410) or never valid here (404). */
export function unusablePage(reason: InviteUnusableReason): { status: number; body: string } {
  switch (reason) {
    case 'unknown':
    case 'superseded':
      return {
        status: 404,
        body: page(
          'Invite not found',
          html`<h1>This invite link is not valid</h1>
<p>Check that you opened the whole link from the email. If you were sent more than one invite, only the link in the most recent email works.</p>`,
        ),
      };
    case 'expired':
      return {
        status: 410,
        body: page(
          'Invite expired',
          html`<h1>This invite link has expired</h1>
<p>Invite links work for a limited time. Ask the person who invited you to send a new invite.</p>`,
        ),
      };
    case 'retired':
      return {
        status: 410,
        body: page(
          'Invite no longer valid',
          html`<h1>This invite link no longer works</h1>
            <p>
              The account's email address or password was changed after this invite was sent. Ask the person who invited you to send a new
              invite.
            </p>`,
        ),
      };
    case 'deleted':
      return {
        status: 410,
        body: page(
          'Invite no longer valid',
          html`<h1>This invite link no longer works</h1>
<p>The account this invite was for has been deleted.</p>`,
        ),
      };
    case 'used':
      return {
        status: 410,
        body: page(
          'Invite already used',
          html`<h1>This invite has already been used</h1>
<p>A password has already been set with this link. Sign in with that password.</p>`,
        ),
      };
  }
}

/** Any other refusal of an /invites request, by status; never the form. */
export function errorPage(status: number, retryAfterSeconds?: number): string {
  const [title, text] = describe(status, retryAfterSeconds);
  return page(
    title,
    html`<h1>${title}</h1>
<p>${text}</p>`,
  );
}

function describe(status: number, retryAfterSeconds: number | undefined): [string, string] {
  switch (status) {
    case 403:
      return [
        'This form has expired',
        'Your browser did not send the form as we issued it, or it has expired. Open the link from your email again; your browser must accept cookies from this site.',
      ];
    case 404:
      return ['Page not found', 'There is no page at this address. Open the link from your email again.'];
    case 413:
      return ['The form is too large', 'The form you sent is larger than this page accepts.'];
    case 415:
      return ['The form could not be read', 'Send the form from the invite page.'];
    case 429: {
      const minutes = Math.max(1, Math.ceil((retryAfterSeconds ?? 60) / 60));
      return [
        'Too many attempts',
        `This invite has been tried too often. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`,
      ];
    }
    default:
      return status >= 500
        ? ['Something went wrong', 'We could not handle your request. It has been logged; please try again in a few minutes.']
        : ['The form could not be read', 'Open the link from your email again and fill in the form on that page.'];
  }
}
