// Test helpers of the oauth2 library. Import them from tests only; they spawn processes and open ports.
export { authorizeBrowserlessly, start, startAuthorizationServer } from './authorization-server';
export type { AuthorizationServerOptions, BrowserlessAuthorizationResult, TestAuthorizationServer, TestClient } from './authorization-server';
export { startStubHttpServer } from './stub-http-server';
export type { StubHandler, StubHttpServer, StubRequest } from './stub-http-server';
