import type { ConnectionSnippets, ConnectionView } from '@plugboard/contracts';

/**
 * Ready-to-paste calls through a connection: curl and TypeScript through the gateway's POST /v1/invoke, curl through
 * /v1/proxy (the API key in $PLUGBOARD_API_KEY), and a NATS request in the format NestJS microservices speak ({id, pattern, data} →
 * {response | err}). Deployment addresses and credentials appear as placeholders only: any reader of a connection
 * may ask for its snippet, and NATS_URL or a NATS password would hand them the bus.
 */
export function buildSnippets(connection: ConnectionView, options: { publicUrl: string; namespace: string; overNats: boolean; orgId: string; userId: string }): ConnectionSnippets {
  const call = { connection: connection.linkName, method: 'GET', url: '/' };
  const curl = [
    `curl -s -X POST '${options.publicUrl}/v1/invoke' \\`,
    `  -H "Authorization: Bearer $PLUGBOARD_API_KEY" \\`,
    `  -H 'X-User-Id: ${options.userId}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${JSON.stringify(call)}'`,
  ].join('\n');
  const proxyCurl = [`curl -s '${options.publicUrl}/v1/proxy/${connection.linkName}/' \\`, `  -H "Authorization: Bearer $PLUGBOARD_API_KEY" \\`, `  -H 'X-User-Id: ${options.userId}'`].join('\n');
  const typescript = [
    `fetch('${options.publicUrl}/v1/invoke', {`,
    `  method: 'POST',`,
    `  headers: { authorization: \`Bearer \${process.env.PLUGBOARD_API_KEY}\`, 'x-user-id': '${options.userId}', 'content-type': 'application/json' },`,
    `  body: JSON.stringify(${JSON.stringify(call)}),`,
    `})`,
    `  .then((response) => response.json())`,
    `  .then((result) => process.stdout.write(JSON.stringify(result) + '\\n'));`,
  ].join('\n');
  const subject = `${options.namespace}.invoke.request`;
  const nats = options.overNats
    ? [
        `const { connect } = require('nats');`,
        `connect({ servers: process.env.NATS_URL, user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD }).then(async (nc) => {`,
        `  const request = { id: String(Date.now()), pattern: '${subject}', data: { actor: { orgId: '${options.orgId}', userId: '${options.userId}' }, invoke: ${JSON.stringify(call)} } };`,
        `  const reply = JSON.parse((await nc.request('${subject}', JSON.stringify(request), { timeout: 35000 })).string());`,
        `  process.stdout.write(JSON.stringify(reply.err ?? reply.response) + '\\n');`,
        `  await nc.close();`,
        `});`,
      ].join('\n')
    : null;
  return { curl, proxyCurl, typescript, nats };
}
