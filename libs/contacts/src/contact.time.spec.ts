import { grantIsLive, hasPassed, inviteIsUsable, inviteUnusableReason } from './contact.time.js';
import type { Invite } from './contact.state.js';

const now = new Date('2026-01-15T10:00:00Z');
const anInvite = (invite: Partial<Invite> = {}): Invite => ({
  tokenHash: 'hash-1',
  expiresAt: '2026-01-22T10:00:00+00:00',
  status: 'pending',
  ...invite,
});

describe(hasPassed.name, () => {
  it('holds from the very moment on, whatever the offset it is written with', () => {
    expect(hasPassed('2026-01-15T10:00:00+00:00', now)).toBe(true);
    expect(hasPassed('2026-01-15T11:00:00+01:00', now)).toBe(true);
    expect(hasPassed('2026-01-15T09:59:59Z', now)).toBe(true);
    expect(hasPassed('2026-01-15T10:00:01Z', now)).toBe(false);
  });
});

describe(grantIsLive.name, () => {
  it('keeps a grant without an expiry, and one whose expiry is still ahead', () => {
    expect(grantIsLive({ expires: null }, now)).toBe(true);
    expect(grantIsLive({ expires: '2026-01-15T10:00:01+00:00' }, now)).toBe(true);
  });

  it('ends a grant at its expiry', () => {
    expect(grantIsLive({ expires: '2026-01-15T10:00:00+00:00' }, now)).toBe(false);
  });
});

describe(inviteIsUsable.name, () => {
  it('is usable while pending or sent and before its expiry', () => {
    expect(inviteIsUsable(anInvite(), now)).toBe(true);
    expect(inviteIsUsable(anInvite({ status: 'sent' }), now)).toBe(true);
  });

  it('is not usable once accepted or at its expiry', () => {
    expect(inviteIsUsable(anInvite({ status: 'accepted' }), now)).toBe(false);
    expect(inviteIsUsable(anInvite({ expiresAt: '2026-01-15T10:00:00Z' }), now)).toBe(false);
  });
});

describe(inviteUnusableReason.name, () => {
  it('names why a token cannot be used, or nothing when it can', () => {
    expect(inviteUnusableReason(null, 'hash-1', now)).toBe('unknown');
    expect(inviteUnusableReason(anInvite(), 'hash-0', now)).toBe('superseded');
    expect(inviteUnusableReason(anInvite({ status: 'accepted' }), 'hash-1', now)).toBe('used');
    expect(inviteUnusableReason(anInvite({ expiresAt: '2026-01-15T09:00:00Z' }), 'hash-1', now)).toBe('expired');
    expect(inviteUnusableReason(anInvite(), 'hash-1', now)).toBeNull();
  });
});
