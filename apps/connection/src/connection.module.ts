import { Module, type DynamicModule } from '@nestjs/common';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, type PlatformOptions } from '@plugboard/runtime';

export const CONNECTION = 'connection';
export const connectionMigrations = [...eventStoreMigrations];

/** The connection app: connection streams, the credential vault's users, authorization flows (coming with the connections issue). */
@Module({})
export class ConnectionModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: ConnectionModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: CONNECTION })],
      controllers: [healthController(Subjects.connection.health, CONNECTION)],
    };
  }
}
