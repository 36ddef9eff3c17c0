import { Reflector } from '@nestjs/core';
import { BusApiOperations, Endpoints, type BusApiOperation, type Endpoint } from '@plugboard/contracts';
import { ConnectLinksRoutes } from '../routes/connect-links.routes';
import { ConnectionsRoutes } from '../routes/connections.routes';
import { InvokeRoutes } from '../routes/invoke.routes';
import { ServicesRoutes } from '../routes/services.routes';
import { WebhookRoutes } from '../routes/webhook.routes';
import { BusApiHandlers } from './bus-api.operations';

/** The REST route each operation mirrors: its controller and method, whose `@RequiresRole` the bus must match. */
const routes: Record<BusApiOperation, [object, string]> = {
  'services.list': [ServicesRoutes, 'list'],
  'services.create': [ServicesRoutes, 'create'],
  'services.get': [ServicesRoutes, 'get'],
  'services.edit': [ServicesRoutes, 'edit'],
  'services.delete': [ServicesRoutes, 'delete'],
  'services.setClient': [ServicesRoutes, 'setClient'],
  'services.removeClient': [ServicesRoutes, 'removeClient'],
  'connections.list': [ConnectionsRoutes, 'list'],
  'connections.create': [ConnectionsRoutes, 'create'],
  'connections.get': [ConnectionsRoutes, 'get'],
  'connections.edit': [ConnectionsRoutes, 'edit'],
  'connections.authorize': [ConnectionsRoutes, 'authorize'],
  'connections.revoke': [ConnectionsRoutes, 'revoke'],
  'connections.delete': [ConnectionsRoutes, 'delete'],
  'connections.snippet': [ConnectionsRoutes, 'snippet'],
  invoke: [InvokeRoutes, 'invoke'],
  'connectLinks.create': [ConnectLinksRoutes, 'create'],
  'webhook.register': [WebhookRoutes, 'register'],
  'webhook.get': [WebhookRoutes, 'get'],
  'webhook.remove': [WebhookRoutes, 'remove'],
  'webhook.rotateSecret': [WebhookRoutes, 'rotateSecret'],
  'webhook.deliveries': [WebhookRoutes, 'deliveries'],
};

describe('the bus API operations table', () => {
  const reflector = new Reflector();

  it.each(Object.keys(BusApiOperations) as BusApiOperation[])('%s needs the role its REST route needs, and takes its path parameters', (operation) => {
    const [controller, method] = routes[operation];
    const handler = (controller as { prototype: Record<string, () => unknown> }).prototype[method];
    expect(handler).toBeDefined();
    const restRole = reflector.getAllAndOverride('plugboard:role', [handler, controller as () => unknown]) ?? 'read_only';
    expect(BusApiHandlers[operation].role).toBe(restRole);
    const endpoint: Endpoint = Endpoints[BusApiOperations[operation]];
    expect([...BusApiHandlers[operation].params]).toEqual([...endpoint.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name));
  });
});
