export {
  AUTHORIZATION_SCOPE_SEPARATOR,
  buildAuthorizationRequest,
  clientCredentials,
  exchangeCode,
  parseAuthorizationResponse,
  parseScopes,
  refresh,
  revoke,
} from './oauth2.client';
export type {
  AuthorizationRequest,
  AuthorizationRequestInput,
  AuthorizationResponseInput,
  ClientAuthMethod,
  ClientCredentialsGrantInput,
  ClientCredentialsInput,
  ExchangeCodeInput,
  FetchLike,
  JsonValue,
  OAuth2CallOptions,
  RefreshedTokenSet,
  RefreshInput,
  RevokeInput,
  ScopeDelimiter,
  TokenSet,
} from './oauth2.client';
export { OAuth2Error, isOAuth2Error } from './oauth2.error';
export type { OAuth2ErrorDetails, OAuth2ErrorJson, OAuth2ErrorKind, OAuth2Operation } from './oauth2.error';
