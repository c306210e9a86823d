import type { ApprovalMethod, RoleCatalogue as Catalogue } from '@app/contacts';
import { isPgError, PgError, type Queryable } from '@app/database';

export interface Role {
  reference: string;
  title: string;
  approvalMethod: ApprovalMethod;
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
