import type { InviteUnusableReason } from './contact.errors.js';
import type { Grant, Invite } from './contact.state.js';

/**
 * The domain's one reading of a date against the clock: a moment has passed once `now` reaches
 * it, so a grant that expires at 10:00 is gone at 10:00 and an invite that expires then no longer works.
 */
export function hasPassed(at: string, now: Date): boolean {
  return new Date(at).getTime() <= now.getTime();
}

/** A grant counts (is shown, can be approved, is kept by an update) until its expiry comes. */
export function grantIsLive(grant: Pick<Grant, 'expires'>, now: Date): boolean {
  return grant.expires === null || !hasPassed(grant.expires, now);
}

/** An invite can still be accepted: not accepted yet and not past its expiry. */
export function inviteIsUsable(invite: Pick<Invite, 'status' | 'expiresAt'>, now: Date): boolean {
  return invite.status !== 'accepted' && !hasPassed(invite.expiresAt, now);
}

/**
 * Why the invite with this token hash cannot be accepted at `now`, or null when it can. Only the
 * contact's latest invite counts: the token of an earlier one is superseded.
 */
export function inviteUnusableReason(invite: Invite | null, tokenHash: string, now: Date): InviteUnusableReason | null {
  if (invite === null) return 'unknown';
  if (invite.tokenHash !== tokenHash) return 'superseded';
  if (invite.status === 'accepted') return 'used';
  if (!inviteIsUsable(invite, now)) return 'expired';
  return null;
}
