import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../http/auth';

/** Where `npm ci`, `npm start` and `npm test` build the console (tools/build-console.js). */
export const CONSOLE_DIST = path.resolve(__dirname, '../../../console/dist');

// Scripts and styles of this origin only (Vite emits no inline script); calls to this origin only; never framed.
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

function commonHeaders(res: Response): void {
  res.setHeader('content-security-policy', CONSOLE_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  // A connect link's token is in its page's path: no Referer carries it to a provider.
  res.setHeader('referrer-policy', 'no-referrer');
}

/**
 * The console at /console: the single-page app built into apps/console/dist. Assets have content hashes in their
 * names, so they are cached for good; every other path is the app's index.html, never cached, which shows the
 * sign-in page to a browser without a session (the app asks `GET /v1/session`). Public for the API key guard: the
 * page holds no data, and every call it makes is authenticated by the session cookie.
 */
@Controller('console')
@Public()
export class ConsoleRoutes {
  private index?: Buffer;

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    commonHeaders(res);
    // One file name of the build, never a path: nothing outside dist/assets can be named.
    const full = /^[\w.-]+$/.test(file) && !file.startsWith('.') ? path.join(CONSOLE_DIST, 'assets', file) : null;
    if (!full || !existsSync(full)) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    res.type(TYPES[path.extname(file)] ?? 'application/octet-stream').send(readFileSync(full));
  }

  @Get(['', '*path'])
  page(@Res() res: Response): void {
    commonHeaders(res);
    res.setHeader('cache-control', 'no-cache');
    const index = this.read();
    if (!index) {
      res
        .status(503)
        .type('html')
        .send('<!doctype html><title>Plugboard</title><h1>The console is not built</h1><p>Run <code>npm ci</code> (or <code>node tools/build-console.js</code>) and start Plugboard again.</p>');
      return;
    }
    res.type('html').send(index);
  }

  private read(): Buffer | undefined {
    // Read once when present: a build replaces the file, and the gateway serves the build it started with.
    if (!this.index && existsSync(path.join(CONSOLE_DIST, 'index.html'))) this.index = readFileSync(path.join(CONSOLE_DIST, 'index.html'));
    return this.index;
  }
}
