import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsObject, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { APPROVAL_METHODS, type ApprovalMethod } from '@app/contacts';
import { ROLE_REFERENCE, ROLE_REFERENCE_MAX, ROLE_TITLE_MAX, RoleCatalogue, type Role } from '@app/roles';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { Idempotency, type Outcome } from '../http/idempotency.js';
import { validateBody } from '../http/validation.js';

export class RoleDto {
  @IsDefined()
  @IsString()
  @MaxLength(ROLE_REFERENCE_MAX)
  @Matches(ROLE_REFERENCE, { message: 'reference may hold letters, digits, ".", "_" and "-"', context: { code: 'invalid_reference' } })
  reference!: string;

  @IsDefined() @IsString() @MaxLength(ROLE_TITLE_MAX) title!: string;

  @IsDefined()
  @IsIn(APPROVAL_METHODS, { message: 'approvalMethod must be none, email or admin', context: { code: 'invalid_approval_method' } })
  approvalMethod!: ApprovalMethod;
}

export class CreateRoleRequest {
  @IsDefined({ message: 'role is required' })
  @IsObject({ message: 'role must be an object' })
  @ValidateNested()
  @Type(() => RoleDto)
  role!: RoleDto;
}

const created = (role: Role): Outcome<{ role: Role }> => ({ status: 201, headers: {}, body: { role } });

/** The access-role catalogue (DESIGN §6). */
@Controller('api')
export class RolesController {
  constructor(
    @Inject(RoleCatalogue) private readonly roles: RoleCatalogue,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
  ) {}

  @Get('roles.json')
  @RequireScopes('roles.readonly')
  async list(): Promise<{ roles: Role[] }> {
    return { roles: await this.roles.list() };
  }

  @Post('roles.json')
  @RequireScopes('roles')
  async create(
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ role: Role }> {
    const { role } = validateBody(CreateRoleRequest, body);
    return this.idempotency.run(request, reply, created, (record) =>
      this.idempotency.transaction(record, (tx) =>
        this.roles.create({ reference: role.reference, title: role.title, approvalMethod: role.approvalMethod }, tx),
      ),
    );
  }
}
