import { APPROVAL_METHODS, type ApprovalMethod, type RoleCatalogue as Catalogue } from '@app/contacts';
import { isPgError, PgError, type Queryable } from '@app/database';

export interface Role {
  reference: string;
  title: string;
  approvalMethod: ApprovalMethod;
}

/** What a role's reference and title may be: the same rules for the API and the CLI. */
export const ROLE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const ROLE_REFERENCE_MAX = 100;
export const ROLE_TITLE_MAX = 200;

/** Why `role` cannot join the catalogue, one line each; empty when it can. */
export function roleProblems(role: Role): string[] {
  const problems: string[] = [];
  if (!ROLE_REFERENCE.test(role.reference) || role.reference.length > ROLE_REFERENCE_MAX) {
    problems.push(`reference may hold letters, digits, ".", "_" and "-", at most ${ROLE_REFERENCE_MAX} characters`);
  }
  if (role.title.trim() === '' || role.title.length > ROLE_TITLE_MAX) problems.push(`title must have 1 to ${ROLE_TITLE_MAX} characters`);
  if (!APPROVAL_METHODS.includes(role.approvalMethod)) problems.push('approval method must be none, email or admin');
  return problems;
}

export class RoleExists extends Error {
  constructor(readonly reference: string) {
    super(`access role "${reference}" already exists`);
    this.name = 'RoleExists';
  }
}

/** The access-role catalogue: the roles a contact may be granted (Evance: roles are never created by a grant). */
export class RoleCatalogue {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<Role[]> {
    const { rows } = await this.db.query<Role>(
      'SELECT reference, title, approval_method AS "approvalMethod" FROM roles ORDER BY reference',
    );
    return rows;
  }

  /** Adds a role; inside `tx` when given, so it commits with whatever else that transaction writes. */
  async create(role: Role, tx: Queryable = this.db): Promise<Role> {
    try {
      await tx.query('INSERT INTO roles (reference, title, approval_method) VALUES ($1, $2, $3)', [
        role.reference,
        role.title,
        role.approvalMethod,
      ]);
      return role;
    } catch (error) {
      if (isPgError(error, PgError.uniqueViolation)) throw new RoleExists(role.reference);
      throw error;
    }
  }

  /** The approval method of each of `references` that exists. */
  async lookup(references: string[]): Promise<Catalogue> {
    if (references.length === 0) return new Map();
    const { rows } = await this.db.query<{ reference: string; approval_method: ApprovalMethod }>(
      'SELECT reference, approval_method FROM roles WHERE reference = ANY($1::text[])',
      [references],
    );
    return new Map(rows.map((r) => [r.reference, r.approval_method]));
  }
}
