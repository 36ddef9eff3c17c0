import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { HealthSubjects } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { Public } from '../http/auth';

/** `GET /health`: the database answers, and every app answers over the bus. */
@Controller('health')
export class HealthRoutes {
  constructor(
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
  ) {}

  @Get()
  @Public()
  async health(@Res() response: Response): Promise<void> {
    const checks: Record<string, string> = {};
    const probes = [
      this.dataSource.query('SELECT 1').then(
        () => (checks.database = 'ok'),
        () => (checks.database = 'unreachable'),
      ),
      ...Object.entries(HealthSubjects).map(([app, subject]) =>
        this.rpc.request(subject, {}, { timeoutMs: 2000 }).then(
          () => (checks[app] = 'ok'),
          () => (checks[app] = 'unreachable'),
        ),
      ),
    ];
    await Promise.all(probes);
    const healthy = Object.values(checks).every((c) => c === 'ok');
    response.status(healthy ? 200 : 503).json({ status: healthy ? 'ok' : 'degraded', checks });
  }
}
