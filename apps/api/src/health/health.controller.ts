import { Controller, Get, Inject } from '@nestjs/common';
import { Database } from '@app/database';
import { problem, ProblemException } from '../http/problem.js';

/** Readiness: the API is useful only while it can reach Postgres. */
@Controller('health')
export class HealthController {
  constructor(@Inject(Database) private readonly db: Database) {}

  @Get()
  async check(): Promise<{ status: 'ok'; checks: Record<string, 'up'> }> {
    try {
      await this.db.query('SELECT 1');
    } catch {
      throw new ProblemException(problem(503, 'unavailable', 'postgres is unreachable'));
    }
    return { status: 'ok', checks: { postgres: 'up' } };
  }
}
