import type { Provider } from '@nestjs/common';
import { ConnectionQueries } from '@plugboard/connections';
import { InvocationQueries } from '@plugboard/invocations';
import { EgressPolicy } from '@plugboard/outbound';
import { RefreshQueries } from '@plugboard/refresh';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { WebhookQueries } from '@plugboard/webhooks';
import { CONSOLE_SESSIONS, ConsoleSessions } from '../session/console-sessions';
import { DashboardQueries } from './dashboard.queries';
import { DASHBOARD_SIGN_IN } from './dashboard.routes';
import { OperatorSignIn } from './operator-sign-in';

export { DashboardRoutes } from './dashboard.routes';

/** What the dashboard's (and the console's) routes need, next to the gateway's ApiKeys. */
export const dashboardProviders: Provider[] = [
  ConnectionQueries,
  RefreshQueries,
  InvocationQueries,
  WebhookQueries,
  DashboardQueries,
  { provide: CONSOLE_SESSIONS, useFactory: (config: PlatformConfig) => ConsoleSessions.fromConfig(config), inject: [PLATFORM_CONFIG] },
  {
    provide: DASHBOARD_SIGN_IN,
    useFactory: (config: PlatformConfig, sessions: ConsoleSessions | null, egress: EgressPolicy) => OperatorSignIn.fromConfig(config, sessions, egress),
    inject: [PLATFORM_CONFIG, CONSOLE_SESSIONS, EgressPolicy],
  },
];
