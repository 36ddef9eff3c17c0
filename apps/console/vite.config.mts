import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The gateway serves dist/ at /console: hashed assets cached for good, index.html never (see console.routes.ts).
export default defineConfig({
  root,
  base: '/console/',
  plugins: [react()],
  // The one contracts file the console runs (the rest it uses as types only): the link-name rule the server applies.
  resolve: { alias: { '@plugboard/contracts/link-names': fileURLToPath(new URL('../../libs/contracts/src/link-names.ts', import.meta.url)) } },
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One request less and no inline script: the Content-Security-Policy allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
