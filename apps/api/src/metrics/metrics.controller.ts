import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiMetrics } from './api.metrics.js';

/**
 * Prometheus metrics. No token, like /health: it shows counts and latencies, never a contact;
 * keep it off the public internet at the proxy (or scrape it on the pod's address).
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(ApiMetrics) private readonly metrics: ApiMetrics) {}

  @Get()
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    operationId: 'scrapeMetrics',
    security: [],
    description:
      'No token needed. HTTP latency by route pattern, events appended by type, job counts per queue and state, dispatcher lag, and Node process metrics, in the Prometheus text format.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.type(this.metrics.contentType);
    return this.metrics.scrape();
  }
}
