import type { Provider } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { DashboardQueries } from './dashboard.queries';
import { DASHBOARD_SIGN_IN } from './dashboard.routes';
import { OperatorSignIn } from './operator-sign-in';

export { DashboardRoutes } from './dashboard.routes';

/** What the dashboard's routes need, next to the gateway's ApiKeys. */
export const dashboardProviders: Provider[] = [
  DashboardQueries,
  { provide: DASHBOARD_SIGN_IN, useFactory: (config: PlatformConfig) => OperatorSignIn.fromConfig(config), inject: [PLATFORM_CONFIG] },
];
