import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsObject, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APPROVAL_METHODS, type ApprovalMethod } from '@app/contacts';
import { ROLE_REFERENCE, ROLE_REFERENCE_MAX, ROLE_TITLE_MAX, RoleCatalogue, type Role } from '@app/roles';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { RequireScopes } from '../auth/scopes.decorator.js';
import { ApiProblems } from '../docs/problem.schema.js';
import { Idempotency, type Outcome } from '../http/idempotency.js';
import { validateBody } from '../http/validation.js';

export class RoleDto {
  @ApiProperty({ type: String, maxLength: ROLE_REFERENCE_MAX, pattern: ROLE_REFERENCE.source, example: 'trade' })
  @IsDefined()
  @IsString()
  @MaxLength(ROLE_REFERENCE_MAX)
  @Matches(ROLE_REFERENCE, { message: 'reference may hold letters, digits, ".", "_" and "-"', context: { code: 'invalid_reference' } })
  reference!: string;

  @ApiProperty({ type: String, maxLength: ROLE_TITLE_MAX, example: 'Trade customer' })
  @IsDefined()
  @IsString()
  @MaxLength(ROLE_TITLE_MAX)
  title!: string;

  @ApiProperty({
    enum: APPROVAL_METHODS,
    description:
      '`none`: a grant is active at once; `email`: pending until the email is verified (the invite accepted); `admin`: pending until approved',
  })
  @IsDefined()
  @IsIn(APPROVAL_METHODS, { message: 'approvalMethod must be none, email or admin', context: { code: 'invalid_approval_method' } })
  approvalMethod!: ApprovalMethod;
}

export class CreateRoleRequest {
  @ApiProperty({ type: () => RoleDto })
  @IsDefined({ message: 'role is required' })
  @IsObject({ message: 'role must be an object' })
  @ValidateNested()
  @Type(() => RoleDto)
  role!: RoleDto;
}

class RoleEnvelope {
  @ApiProperty({ type: RoleDto }) role!: RoleDto;
}

class RolesResponse {
  @ApiProperty({ type: [RoleDto] }) roles!: RoleDto[];
}

const created = (role: Role): Outcome<{ role: Role }> => ({ status: 201, headers: {}, body: { role } });

/** The access-role catalogue (DESIGN §6). */
@ApiTags('roles')
@Controller('api')
export class RolesController {
  constructor(
    @Inject(RoleCatalogue) private readonly roles: RoleCatalogue,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
  ) {}

  @Get('roles.json')
  @RequireScopes('roles.readonly')
  @ApiOperation({
    summary: 'The access-role catalogue',
    operationId: 'listRoles',
    description: 'Scope: `roles.readonly` (`roles` includes it).',
  })
  @ApiOkResponse({ type: RolesResponse })
  async list(): Promise<{ roles: Role[] }> {
    return { roles: await this.roles.list() };
  }

  @Post('roles.json')
  @RequireScopes('roles')
  @ApiOperation({ summary: 'Add a role to the catalogue', operationId: 'createRole', description: 'Scope: `roles`.' })
  @ApiBody({ type: CreateRoleRequest })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'a repeat with the same key and body returns the first response',
    schema: { type: 'string', maxLength: 255 },
  })
  @ApiCreatedResponse({ type: RoleEnvelope })
  @ApiProblems(400, 409, 413, 415, 422)
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
