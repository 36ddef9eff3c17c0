/**
 * What the vault holds for a connection (or a user of it): the credential, by auth type. This shape is shared by
 * the apps that write it (connection, token refresh) and read it (invoke proxy); it never leaves the vault otherwise.
 */
export type StoredCredential =
  | { kind: 'api_key'; values: Record<string, string> }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'oauth1'; token: string; tokenSecret: string }
  | { kind: 'oauth2'; accessToken: string; refreshToken: string | null; tokenType: string; expiresAt: string | null; scopes: string[] | null };
