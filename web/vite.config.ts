import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The two faces the server serves itself: the agent console (/console/) and the web
 * authenticator (/authenticator/), built to web/dist and served by src/http/routes/web.ts.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('public'),
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      input: {
        console: here('console/index.html'),
        authenticator: here('authenticator/index.html'),
      },
    },
  },
  logLevel: 'warn',
});
