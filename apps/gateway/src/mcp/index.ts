export { McpRoutes } from './mcp.routes';
export { ProtectedResourceRoutes, protectedResourceMetadataUrl } from './protected-resource.routes';
