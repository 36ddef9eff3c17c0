import { busApiSubject, type ConnectionSnippets, type ConnectionView } from '@plugboard/contracts';

/**
 * Ready-to-paste calls through a connection: curl and TypeScript through the gateway's POST /v1/invoke, curl through
 * /v1/proxy (the API key in $PLUGBOARD_API_KEY), and a request on the products' NATS API (`<namespace>.api.invoke`, the
 * same key in its Authorization header, the inbox prefix of the `product` NATS user). Deployment addresses and credentials appear as placeholders only: any reader of a connection
 * may ask for its snippet, and NATS_URL or a NATS password would hand them the bus.
 */
export function buildSnippets(connection: ConnectionView, options: { publicUrl: string; namespace: string; overNats: boolean; userId: string }): ConnectionSnippets {
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
  const subject = busApiSubject(options.namespace, 'invoke');
  const nats = options.overNats
    ? [
        `const { connect, headers } = require('nats');`,
        `connect({ servers: process.env.NATS_URL, user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD, inboxPrefix: '_INBOX.product' }).then(async (nc) => {`,
        `  const h = headers();`,
        `  h.set('Authorization', \`Bearer \${process.env.PLUGBOARD_API_KEY}\`);`,
        `  h.set('X-User-Id', '${options.userId}');`,
        `  const reply = JSON.parse((await nc.request('${subject}', JSON.stringify(${JSON.stringify(call)}), { timeout: 35000, headers: h })).string());`,
        `  process.stdout.write(JSON.stringify(reply.ok ? reply.result : reply.error) + '\\n');`,
        `  await nc.close();`,
        `});`,
      ].join('\n')
    : null;
  return { curl, proxyCurl, typescript, nats };
}
