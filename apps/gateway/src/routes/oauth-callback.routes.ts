import { Controller, Get, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Subjects, type CompletedAuthorization } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { Public } from '../http/auth';
import { escapeHtml } from '../http/html';

/** The small page a person sees in their browser when the provider sends them back. */
function summaryPage(result: CompletedAuthorization): string {
  const title = { connected: 'Connected', denied: 'Authorization denied', failed: 'Authorization failed' }[result.outcome];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Plugboard</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(result.message)}</p>${result.linkName ? `<p>Connection: <code>${escapeHtml(result.linkName)}</code></p>` : ''}<p>You can close this window.</p></body></html>`;
}

/**
 * Where providers send the user back (`/v1/oauth/callback`, `/v1/oauth1/callback`). No API key here: the
 * single-use state (or request token) names the org, user and connection the authorization belongs to.
 */
@Controller('v1')
export class OAuthCallbackRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Get('oauth/callback')
  @Public()
  oauth2(@Query() query: Record<string, unknown>, @Res() response: Response): Promise<void> {
    return this.finish('oauth2', query, response);
  }

  @Get('oauth1/callback')
  @Public()
  oauth1(@Query() query: Record<string, unknown>, @Res() response: Response): Promise<void> {
    return this.finish('oauth1', query, response);
  }

  private async finish(protocol: 'oauth1' | 'oauth2', query: Record<string, unknown>, response: Response): Promise<void> {
    const params = Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    const result = await this.rpc.request(Subjects.connection.completeAuthorization, { protocol, params });
    response.setHeader('cache-control', 'no-store');
    if (result.returnUrl) {
      const back = new URL(result.returnUrl);
      back.searchParams.set('plugboard_status', result.outcome);
      if (result.linkName) back.searchParams.set('connection', result.linkName);
      response.redirect(302, back.toString());
      return;
    }
    response.status(result.outcome === 'connected' ? 200 : result.outcome === 'denied' ? 403 : 400).type('html').send(summaryPage(result));
  }
}
