import { Controller } from '@nestjs/common';

@Controller('invites')
export class InvitesController {}
