import 'reflect-metadata';
import { runApp } from '@plugboard/runtime';
import { GATEWAY, gatewayMigrations } from './gateway.module';
import { startGateway } from './start-gateway';

void runApp({ name: GATEWAY, migrations: gatewayMigrations, required: ['NATS_URL'], start: startGateway });
