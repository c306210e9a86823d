/** Every queue and the jobs each one runs. A job listed here without a processor stops the worker at start. */
export const QUEUES = {
  invites: ['send-invite', 'sweep-unsent-invites'],
  roles: ['expire-role', 'sweep-expired'],
  maintenance: ['forget-idempotency-keys'],
} as const;

export type QueueName = keyof typeof QUEUES;
export type JobName<Q extends QueueName = QueueName> = (typeof QUEUES)[Q][number];

export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];

/** What the invite mail job needs: the invite is the `InviteIssued` at `version` of the contact's stream. */
export interface SendInviteJob {
  contactId: string;
  version: number;
  tokenHash: string;
  /** the correlation id of the request that issued the invite, carried onto InviteSent */
  correlationId: string | null;
  /** the position of the InviteIssued event, the cause of InviteSent */
  eventPosition: string;
}

/** What the expiry job needs: the grant of `reference` with exactly this `expires`. */
export interface ExpireRoleJob {
  contactId: string;
  reference: string;
  expires: string;
  correlationId: string | null;
  /** the position of the RoleGranted event, the cause of RoleRevoked */
  eventPosition: string;
}
