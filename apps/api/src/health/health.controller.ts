import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Database } from '@app/database';
import { unreachableEvents } from '@app/event-store';
import { ApiProblems } from '../docs/problem.schema.js';
import { problem, ProblemException } from '../http/problem.js';
import { QueueBackendProbe } from './queue-backend.probe.js';

/** A dependency that does not answer within this is down: a probe must answer before its caller gives up. */
const CHECK_TIMEOUT_MS = 2_000;

type CheckStatus = 'up' | 'down';
type Checks = Record<string, { status: CheckStatus; backend?: string }>;

class CheckSchema {
  @ApiProperty({ enum: ['up', 'down'] }) status!: CheckStatus;
  @ApiPropertyOptional({ enum: ['redis', 'postgres'], description: 'the queue store (queue only)' }) backend?: string;
}

class ReadinessSchema {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(CheckSchema) },
    example: { postgres: { status: 'up' }, log: { status: 'up' }, queue: { status: 'up', backend: 'redis' } },
  })
  checks!: Checks;
}

class LivenessSchema {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

/** Each check's status (and the queue's store), never a driver's error text: /health is public. */
function checksOf(result: HealthCheckResult): Checks {
  const checks: Checks = {};
  for (const [key, value] of Object.entries(result.details)) {
    const backend = (value as { backend?: unknown }).backend;
    checks[key] = { status: value.status === 'up' ? 'up' : 'down', ...(typeof backend === 'string' ? { backend } : {}) };
  }
  return checks;
}

/**
 * Readiness (`/health`): the API is useful only while it reaches Postgres and the queue store
 * (invites and expiries go through the worker's queues). Liveness (`/health/live`): the process
 * answers; it checks nothing else, so a dependency outage never gets the API restarted.
 */
@ApiTags('operations')
@ApiExtraModels(CheckSchema)
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(Database) private readonly db: Database,
    @Inject(QueueBackendProbe) private readonly queue: QueueBackendProbe,
  ) {}

  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness',
    operationId: 'readiness',
    security: [],
    description:
      'No token needed. 200 while Postgres and the queue store (Redis, or the PostgreSQL backend) answer and every event of the log can be read in commit order; 503 otherwise.',
  })
  @ApiOkResponse({ type: ReadinessSchema })
  @ApiProblems(503)
  async readiness(): Promise<{ status: 'ok'; checks: Checks }> {
    try {
      const result = await this.health.check([
        () =>
          this.indicators
            .check('postgres')
            .attempt(async () => {
              await this.db.query('SELECT 1');
            })
            .withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('log')
            .attempt(async () => {
              // Events no reader can reach (a restore not taken onto the log's clock): nothing new
              // would be dispatched or shown in the feed.
              if ((await unreachableEvents(this.db, 1)) > 0) throw new Error('the event log holds events no reader can reach');
            })
            .withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('queue')
            .attempt(async () => {
              await this.queue.ping();
              return { backend: this.queue.kind };
            })
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
      return { status: 'ok', checks: checksOf(result) };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const checks = checksOf(error.getResponse() as HealthCheckResult);
      // The queue check's backend is known even when it failed.
      if (checks.queue) checks.queue.backend = this.queue.kind;
      const down = Object.keys(checks).filter((key) => checks[key]?.status === 'down');
      throw new ProblemException(problem(503, 'unavailable', `unreachable: ${down.join(', ')}`, [], { checks }));
    }
  }

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Liveness',
    operationId: 'liveness',
    security: [],
    description: 'No token needed. 200 while the process serves requests; checks no dependency.',
  })
  @ApiOkResponse({ type: LivenessSchema })
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
