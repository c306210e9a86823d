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

/** A sweep or a clean-up reads what to do from Postgres: its job carries nothing. */
export type RepeatingJob = Record<string, never>;

/** Every queue, the jobs it runs, and each job's data. */
export interface JobDataMap {
  invites: { 'send-invite': SendInviteJob; 'sweep-unsent-invites': RepeatingJob };
  roles: { 'expire-role': ExpireRoleJob; 'sweep-expired': RepeatingJob };
  maintenance: { 'forget-idempotency-keys': RepeatingJob };
}

export type QueueName = keyof JobDataMap;
export type JobName<Q extends QueueName = QueueName> = { [K in Q]: keyof JobDataMap[K] & string }[Q];
export type JobData<Q extends QueueName, J extends JobName<Q>> = JobDataMap[Q][J & keyof JobDataMap[Q]];

/** Every job of every queue, at run time. A job listed here without a processor stops the worker at start. */
export const QUEUES = {
  invites: ['send-invite', 'sweep-unsent-invites'],
  roles: ['expire-role', 'sweep-expired'],
  maintenance: ['forget-idempotency-keys'],
} as const satisfies { [Q in QueueName]: readonly JobName<Q>[] };

export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];
