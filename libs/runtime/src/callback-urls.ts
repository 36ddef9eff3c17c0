import type { CallbackUrl } from '@plugboard/contracts';
import { publicUrlOf, type PlatformConfig } from './config';

/** Where each protocol's provider sends the user back, under the gateway's public URL (or a region's). */
export const CALLBACK_PATHS = { oauth2: '/v1/oauth/callback', oauth1: '/v1/oauth1/callback' } as const;

/**
 * The redirect URIs an OAuth app must register for this deployment (seed 004 lists one per region): the one under
 * PLUGBOARD_PUBLIC_URL (region null, used when an authorization names no region), then one per region of
 * PLUGBOARD_REGION_URLS, in the order the operator gave them.
 */
export function callbackUrlsOf(config: PlatformConfig, protocol: keyof typeof CALLBACK_PATHS): CallbackUrl[] {
  const path = CALLBACK_PATHS[protocol];
  return [{ region: null, url: `${publicUrlOf(config)}${path}` }, ...Object.entries(config.PLUGBOARD_REGION_URLS ?? {}).map(([region, base]) => ({ region, url: `${base}${path}` }))];
}
