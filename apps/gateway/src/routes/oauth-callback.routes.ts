import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Subjects, type CompletedAuthorization } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { Public } from '../http/auth';
import { escapeHtml } from '../http/html';
import { BROWSER_BINDING, type BrowserBinding } from '../session/browser-binding';

/** The small page a person sees in their browser when the provider sends them back. */
function summaryPage(result: CompletedAuthorization): string {
  const title = { connected: 'Connected', denied: 'Authorization denied', failed: 'Authorization failed' }[result.outcome];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Plugboard</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(result.message)}</p>${result.linkName ? `<p>Connection: <code>${escapeHtml(result.linkName)}</code></p>` : ''}<p>You can close this window.</p></body></html>`;
}

/**
 * Where providers send the user back (`/v1/oauth/callback`, `/v1/oauth1/callback`). No API key here: the
 * single-use state (or request token) names the org, user and connection the authorization belongs to, and the
 * browser-binding cookie must be the one of the browser that started it.
 */
@Controller('v1')
export class OAuthCallbackRoutes {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(BROWSER_BINDING) private readonly browsers: BrowserBinding,
  ) {}

  @Get('oauth/callback')
  @Public()
  oauth2(@Query() query: Record<string, unknown>, @Req() request: Request, @Res() response: Response): Promise<void> {
    return this.finish('oauth2', query, request, response);
  }

  @Get('oauth1/callback')
  @Public()
  oauth1(@Query() query: Record<string, unknown>, @Req() request: Request, @Res() response: Response): Promise<void> {
    return this.finish('oauth1', query, request, response);
  }

  private async finish(protocol: 'oauth1' | 'oauth2', query: Record<string, unknown>, request: Request, response: Response): Promise<void> {
    const params = Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    const browser = this.browsers.of(request);
    const result = await this.rpc.request(Subjects.connection.completeAuthorization, { protocol, params, ...(browser ? { browser } : {}) });
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
