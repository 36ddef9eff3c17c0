import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { registry } from '@plugboard/metrics';

/**
 * `GET /metrics`: Prometheus text for any valid API key (Prometheus sends it as a bearer token). Embedded, it holds
 * every app's metrics; distributed, each app also serves its own on HEALTH_PORT.
 */
@Controller('metrics')
export class MetricsRoutes {
  @Get()
  async metrics(@Res() response: Response): Promise<void> {
    response.type(registry.contentType).send(await registry.metrics());
  }
}
